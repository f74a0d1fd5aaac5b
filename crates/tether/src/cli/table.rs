//! kubectl's table layout: upper-case headers, columns left-aligned and separated by three
//! spaces, no trailing spaces; and kubectl's short ages (`45s`, `12m`, `5h`, `3d`).

/// Renders `rows` under `headers`.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("   ");
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// kubectl's `HumanDuration` for the time since `then`.
pub fn age(then: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> String {
    match then {
        Some(then) => since(then.0),
        None => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration` for the time since `then`.
pub fn since(then: jiff::Timestamp) -> String {
    human(jiff::Timestamp::now().duration_since(then).as_secs().max(0))
}

fn human(seconds: i64) -> String {
    let (m, h, d) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match seconds {
        s if s < 120 => format!("{s}s"),
        _ if m < 10 => format!("{m}m{}s", seconds % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => format!("{d}d{}h", h % 24),
        _ if h < 24 * 365 * 2 => format!("{d}d"),
        _ if h < 24 * 365 * 8 => format!("{}y{}d", d / 365, d % 365),
        _ => format!("{}y", d / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_like_kubectl() {
        let out = render(
            &["NAME", "READY", "MESSAGE"],
            &[
                vec!["apps".into(), "True".into(), "Applied".into()],
                vec!["infrastructure".into(), "False".into(), String::new()],
            ],
        );
        assert_eq!(
            out,
            "NAME             READY   MESSAGE\napps             True    Applied\ninfrastructure   False\n"
        );
    }

    #[test]
    fn ages_follow_kubectl_human_duration() {
        for (s, expected) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (700, "11m"),
            (4 * 3600 + 120, "4h2m"),
            (30 * 3600, "30h"),
            (3 * 86_400 + 3600, "3d1h"),
            (40 * 86_400, "40d"),
        ] {
            assert_eq!(human(s), expected, "{s}s");
        }
    }
}
