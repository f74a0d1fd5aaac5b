//! TODO(helper): the replicas transformer.
