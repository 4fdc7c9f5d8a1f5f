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
    ///
    /// The client groups with `formatted_read_group` from 19 on. On 20 the old public
    /// `read_group(domain, fields, groupby, lazy)` is not to be relied on: it was deprecated in
    /// 18.2 and odoo/odoo#236332 (labelled 19.5) turns `read_group` into a public adapter of
    /// `_read_group` with `formatted_read_group`'s parameters and a different reply.
    pub fn has_formatted_read_group(&self) -> bool {
        self.major >= 19
    }

    /// Whether the server still has the legacy `read_group(domain, fields, groupby, lazy=...)`
    /// (deprecated since 18.2): up to 19.0 and the Odoo Online releases before saas~19.5, where
    /// odoo/odoo#236332 gives `read_group` `_read_group`'s parameters instead.
    pub fn has_legacy_read_group(&self) -> bool {
        self.major < 19 || (self.major == 19 && !self.is_saas_after(19, 4))
    }

    /// Whether the server answers `POST /jsonrpc` (and `/xmlrpc`) with the `common` and
    /// `object` services: every version up to 21.
    ///
    /// Deprecated from 19 ([`jsonrpc_deprecated`](Self::jsonrpc_deprecated)). The removal
    /// first announced for 20 was postponed to 22 (odoo/odoo#252721, odoo/documentation#16765:
    /// "20.0 active but deprecated", "22.0 absent"), so 22 and later are taken to have none.
    pub fn has_jsonrpc(&self) -> bool {
        self.major < 22 && !self.is_saas_after(21, 0)
    }

    /// Whether `/jsonrpc` is deprecated on this server (19+: the server logs a warning on each
    /// call). JSON-2 is the API that lasts.
    pub fn jsonrpc_deprecated(&self) -> bool {
        self.major >= 19
    }

    /// Whether the JSON-RPC `db` service (`db.list`, `db.server_version`, ...) is served: up
    /// to 19.0. It was removed in Odoo Online 19.1 and Odoo 20 (odoo/odoo#238399); the
    /// database must then be named with the client builder's `database`.
    pub fn has_rpc_db_service(&self) -> bool {
        self.major < 19 || (self.major == 19 && !self.saas)
    }

    /// An Odoo Online release after `major.minor` of the same major line (`saas~21.1` is after
    /// 21.0).
    fn is_saas_after(&self, major: u32, minor: u32) -> bool {
        self.saas && self.major == major && self.minor > minor
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

    #[test]
    fn what_each_version_serves() {
        let v = |text: &str| ServerVersion::parse(text).unwrap();
        // (version, json-2, json-rpc, json-rpc deprecated, db service, legacy read_group)
        let table = [
            ("16.0", false, true, false, true, true),
            ("17.0", false, true, false, true, true),
            ("18.0", false, true, false, true, true),
            ("saas~18.4", true, true, false, true, true),
            ("19.0", true, true, true, true, true),
            ("saas~19.1", true, true, true, false, true),
            ("saas~19.5", true, true, true, false, false),
            ("20.0", true, true, true, false, false),
            ("21.0", true, true, true, false, false),
            ("saas~21.1", true, false, true, false, false),
            ("22.0", true, false, true, false, false),
        ];
        for (text, json2, rpc, deprecated, db, legacy_group) in table {
            let version = v(text);
            assert_eq!(version.has_json2(), json2, "{text} json-2");
            assert_eq!(version.has_jsonrpc(), rpc, "{text} json-rpc");
            assert_eq!(
                version.jsonrpc_deprecated(),
                deprecated,
                "{text} deprecated"
            );
            assert_eq!(version.has_rpc_db_service(), db, "{text} db service");
            assert_eq!(
                version.has_legacy_read_group(),
                legacy_group,
                "{text} read_group"
            );
            assert_eq!(
                version.has_formatted_read_group(),
                version.major >= 19,
                "{text}"
            );
        }
        // The /json/version reply of a 20.0 server, as the rpc module's controller writes it.
        let twenty = ServerVersion::from_reply(&json!({"server_version": "20.0",
            "server_version_info": [20, 0, 0, "final", 0, ""]}))
        .unwrap();
        assert_eq!((twenty.major, twenty.minor, twenty.saas), (20, 0, false));
        assert!(twenty.at_least(19, 0) && !twenty.at_least(21, 0));
    }
}
