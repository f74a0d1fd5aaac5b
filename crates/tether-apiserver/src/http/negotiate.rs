//! Content negotiation: what the client accepts (`Accept`) and what it sent (`Content-Type`).

use crate::status::ApiError;

/// One media range of an `Accept` header, with the parameters Kubernetes uses (`as`, `g`, `v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    pub essence: String,
    pub as_kind: Option<String>,
    pub group: Option<String>,
    pub version: Option<String>,
}

pub fn parse_accept(header: Option<&str>) -> Vec<MediaRange> {
    let Some(header) = header else { return vec![] };
    header
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next()?.to_ascii_lowercase();
            if essence.is_empty() {
                return None;
            }
            let mut media = MediaRange {
                essence,
                as_kind: None,
                group: None,
                version: None,
            };
            for param in parts {
                if let Some((k, v)) = param.split_once('=') {
                    let v = v.trim().trim_matches('"').to_owned();
                    match k.trim() {
                        "as" => media.as_kind = Some(v),
                        "g" => media.group = Some(v),
                        "v" => media.version = Some(v),
                        _ => {}
                    }
                }
            }
            Some(media)
        })
        .collect()
}

/// How an object or list response is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Yaml,
}

/// The shape the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The object or list itself.
    Object,
    /// `meta.k8s.io` Table (v1 or v1beta1).
    Table { v1beta1: bool },
    /// `meta.k8s.io/v1` PartialObjectMetadata(List).
    PartialMetadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub encoding: Encoding,
    pub shape: Shape,
}

const ACCEPTED: &str = "application/json, application/yaml";

fn plain_json(essence: &str) -> bool {
    matches!(essence, "application/json" | "*/*" | "application/*")
}

/// Picks the first acceptable media range for object and list responses. Protobuf and CBOR
/// ranges are skipped, so clients that offer JSON as a fallback get JSON; a header with nothing
/// we can produce is 406.
pub fn negotiate(header: Option<&str>) -> Result<Negotiated, ApiError> {
    let ranges = parse_accept(header);
    if ranges.is_empty() {
        return Ok(Negotiated {
            encoding: Encoding::Json,
            shape: Shape::Object,
        });
    }
    for range in &ranges {
        let encoding = match range.essence.as_str() {
            e if plain_json(e) => Encoding::Json,
            "application/yaml" => Encoding::Yaml,
            _ => continue,
        };
        let shape = match (
            range.as_kind.as_deref(),
            range.group.as_deref(),
            range.version.as_deref(),
        ) {
            (None, _, _) => Shape::Object,
            (Some("Table"), Some("meta.k8s.io"), Some("v1")) => Shape::Table { v1beta1: false },
            (Some("Table"), Some("meta.k8s.io"), Some("v1beta1")) => Shape::Table { v1beta1: true },
            (
                Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                Some("meta.k8s.io"),
                Some("v1"),
            ) => Shape::PartialMetadata,
            _ => continue,
        };
        return Ok(Negotiated { encoding, shape });
    }
    Err(ApiError::not_acceptable(ACCEPTED))
}

/// The aggregated discovery version the client asked for (`v2` or `v2beta1`), if it asked.
pub fn aggregated_discovery(header: Option<&str>) -> Option<&'static str> {
    for range in parse_accept(header) {
        if range.as_kind.as_deref() == Some("APIGroupDiscoveryList")
            && range.group.as_deref() == Some("apidiscovery.k8s.io")
        {
            match range.version.as_deref() {
                Some("v2") => return Some("v2"),
                Some("v2beta1") => return Some("v2beta1"),
                _ => {}
            }
        }
        if plain_json(&range.essence) && range.as_kind.is_none() {
            return None;
        }
    }
    None
}

/// Body formats for create and update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
    /// `application/vnd.kubernetes.protobuf`: built-in types from client-go.
    Protobuf,
}

/// Body formats for patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn essence(content_type: Option<&str>) -> String {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, ApiError> {
    match essence(content_type).as_str() {
        // Go's client sends no content type on some bodies; upstream treats that as JSON.
        "" | "application/json" => Ok(BodyFormat::Json),
        "application/yaml" => Ok(BodyFormat::Yaml),
        "application/vnd.kubernetes.protobuf" => Ok(BodyFormat::Protobuf),
        _ => Err(ApiError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ])),
    }
}

pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// What custom resources accept: no strategic merge patch, as they have no patch strategies.
pub const CUSTOM_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

pub fn patch_type(content_type: Option<&str>) -> Result<PatchType, ApiError> {
    match essence(content_type).as_str() {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" => Ok(PatchType::Apply),
        _ => Err(ApiError::unsupported_media_type(PATCH_TYPES)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_tables() {
        let n = negotiate(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        ))
        .unwrap();
        assert_eq!(n.shape, Shape::Table { v1beta1: false });
    }

    #[test]
    fn protobuf_falls_back_to_json() {
        let n = negotiate(Some("application/vnd.kubernetes.protobuf,application/json")).unwrap();
        assert_eq!(
            n,
            Negotiated {
                encoding: Encoding::Json,
                shape: Shape::Object
            }
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf"))
                .unwrap_err()
                .code,
            406
        );
        assert_eq!(
            negotiate(Some("application/yaml")).unwrap().encoding,
            Encoding::Yaml
        );
    }

    #[test]
    fn aggregated_discovery_versions() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_discovery(Some(kubectl)), Some("v2"));
        assert_eq!(
            aggregated_discovery(Some(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            )),
            Some("v2beta1")
        );
        assert_eq!(aggregated_discovery(Some("application/json")), None);
    }

    #[test]
    fn patch_types() {
        assert_eq!(
            patch_type(Some("application/apply-patch+yaml; charset=utf-8")).unwrap(),
            PatchType::Apply
        );
        assert_eq!(patch_type(Some("text/plain")).unwrap_err().code, 415);
    }
}
