//! Name references: after renames, fields that refer to a resource by name follow it.
//! TODO(helper).

pub mod defaults;
