//! `replacements`: copy fields from one resource into others. TODO(helper).
