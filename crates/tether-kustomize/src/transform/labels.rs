//! TODO(helper): the labels transformer.
