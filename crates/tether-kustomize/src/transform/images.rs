//! TODO(helper): the images transformer.
