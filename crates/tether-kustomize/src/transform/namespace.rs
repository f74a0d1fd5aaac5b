//! TODO(helper): the namespace transformer.
