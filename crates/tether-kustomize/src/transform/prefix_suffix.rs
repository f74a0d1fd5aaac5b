//! TODO(helper): the prefix_suffix transformer.
