//! TODO(helper): the annotations transformer.
