//! The server's version, and what it implies for the protocol.

use std::fmt;

use serde_json::Value;

/// The Odoo server version, as `common.version` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    /// Major version (`19` for "19.0", `18` for "saas~18.4").
    pub major: u32,
    /// Minor version (`0` for "19.0", `4` for "saas~18.4").
    pub minor: u32,
    /// Whether this is an Odoo Online (SaaS) intermediate release.
    pub saas: bool,
    /// The version text as sent (`"19.0"`, `"saas~18.4+e"`).
    pub text: String,
}

impl ServerVersion {
    /// A version from its major and minor numbers.
    pub fn new(major: u32, minor: u32) -> Self {
        ServerVersion {
            major,
            minor,
            saas: false,
            text: format!("{major}.{minor}"),
        }
    }

    /// Parses a `common.version` reply (`server_version_info` first, then `server_version`).
    pub fn from_reply(reply: &Value) -> Option<Self> {
        let text = reply
            .get("server_version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(info) = reply.get("server_version_info").and_then(Value::as_array) {
            // [19, 0, 0, "final", 0, ""] or ["saas~18", 4, 0, "final", 0, ""]
            let (major, saas) = match info.first() {
                Some(Value::Number(n)) => (n.as_u64().and_then(|m| u32::try_from(m).ok()), false),
                Some(Value::String(s)) => (parse_major(s), s.starts_with("saas")),
                _ => (None, false),
            };
            let minor = info
                .get(1)
                .and_then(Value::as_u64)
                .and_then(|m| u32::try_from(m).ok());
            if let (Some(major), Some(minor)) = (major, minor) {
                return Some(ServerVersion {
                    major,
                    minor,
                    saas,
                    text,
                });
            }
        }
        Self::parse(&text)
    }

    /// Parses a version text: `"19.0"`, `"17.0+e"`, `"saas~18.4"`.
    pub fn parse(text: &str) -> Option<Self> {
        let saas = text.starts_with("saas");
        let core = text.trim_start_matches("saas~").trim_start_matches("saas-");
        let core = core.split(['+', '-', 'a', 'r']).next().unwrap_or(core);
        let mut parts = core.split('.');
        let major = parts.next()?.trim().parse().ok()?;
        let minor = parts
            .next()
            .and_then(|m| m.trim().parse().ok())
            .unwrap_or(0);
        Some(ServerVersion {
            major,
            minor,
            saas,
            text: text.to_owned(),
        })
    }

    /// Whether the server offers the JSON-2 API (`/json/2`, Odoo 19+, and saas-18.4+).
    pub fn has_json2(&self) -> bool {
        self.major >= 19 || (self.major == 18 && self.saas && self.minor >= 4)
    }

    /// Whether `formatted_read_group` replaces `read_group` (19+).
    pub fn has_formatted_read_group(&self) -> bool {
        self.major >= 19
    }

    /// Whether the version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

fn parse_major(s: &str) -> Option<u32> {
    s.trim_start_matches("saas~")
        .trim_start_matches("saas-")
        .parse()
        .ok()
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            f.write_str(&self.text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_recorded_replies() {
        let v = ServerVersion::from_reply(&json!({"server_version": "19.0",
            "server_version_info": [19, 0, 0, "final", 0, ""], "server_serie": "19.0", "protocol_version": 1}))
        .unwrap();
        assert_eq!((v.major, v.minor, v.saas), (19, 0, false));
        assert!(v.has_json2());
        let v = ServerVersion::from_reply(&json!({"server_version": "saas~18.4",
            "server_version_info": ["saas~18", 4, 0, "final", 0, ""]}))
        .unwrap();
        assert_eq!((v.major, v.minor, v.saas), (18, 4, true));
        assert!(v.has_json2());
        let v = ServerVersion::parse("17.0+e").unwrap();
        assert_eq!((v.major, v.minor), (17, 0));
        assert!(!v.has_json2());
        assert!(ServerVersion::from_reply(&json!({})).is_none());
    }
}
