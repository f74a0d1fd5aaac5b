//! kustomize's built-in field specs for each transformer.
//! TODO(helper): fill in from kustomize's builtinpluginconsts.

use crate::config::TransformerConfig;

pub fn builtin_field_specs() -> TransformerConfig {
    TransformerConfig::default()
}
