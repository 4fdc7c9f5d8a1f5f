//! Prints a Rust model type for an Odoo model, from its field descriptions.
//!
//! ```text
//! cargo run --example codegen -- res.partner --from-file fields_get_res_partner.json
//! cargo run --example codegen -- sale.order.line --from-file doc.json --stored-only --no-binary
//! ```
//!
//! The file may hold a `fields_get` reply, a `/doc-bearer/<model>.json` document (Odoo 19+), or
//! either inside a JSON-RPC reply or a recorded exchange. Run with `--help` for every option.

use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use odoo_connect::odoo::codegen::{CodegenError, CodegenOptions, generate_model};
use secrecy::SecretString;
use serde_json::Value;

const USAGE: &str = "\
Usage: codegen <model> --from-file <path> [options]
       codegen <model> --url <url> --db <db> --login <login> (--api-key <key> | --password <pw>) [options]

Prints a Rust type for the Odoo model <model> (e.g. sale.order.line).

Source, one of:
  --from-file <path>    a saved fields_get reply or /doc-bearer/<model>.json document
                        (- reads standard input)
  --url <url>           a live server (default: $ODOO_URL), with
    --db <db>             the database (default: $ODOO_DB)
    --login <login>       the user (default: $ODOO_LOGIN)
    --api-key <key>       an API key (default: $ODOO_API_KEY), or
    --password <pw>       a password (default: $ODOO_PASSWORD)
                        Prefer the environment for secrets: arguments show in process lists.

Options:
  --type-name <Name>    the struct's name (default: from the model, sale.order.line -> SaleOrderLine)
  --stored-only         leave out fields that are not stored (computed on the fly)
  --no-binary           leave out binary fields (images, attachments)
  --no-enums            selection fields as strings instead of enums
  --strict-required     required fields as bare types instead of Option
  --float-as-decimal    every float field as a Decimal (by default only those with digits)
  --no-serialize        derive Deserialize only
  --skip <field>        leave a field out (repeatable)
  --crate-path <path>   how the generated code names the client crate (default: odoo_connect_client;
                        odoo_connect::odoo through the facade)
  -h, --help            show this help
";

/// A command line that cannot be run (exit code 2).
#[derive(Debug, PartialEq, Eq)]
struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// What to run.
#[derive(Debug)]
enum Command {
    Help,
    Generate(Box<Args>),
}

#[derive(Debug)]
struct Args {
    model: String,
    source: Source,
    opts: CodegenOptions,
}

/// Where the field descriptions come from.
#[derive(Debug)]
enum Source {
    /// A file (`None`: standard input).
    File(Option<PathBuf>),
    Live(LiveConfig),
}

/// How to reach a live server. `Debug` shows no secret.
#[derive(Debug)]
struct LiveConfig {
    url: String,
    db: String,
    login: String,
    secret: Secret,
}

#[derive(Debug)]
enum Secret {
    ApiKey(SecretString),
    Password(SecretString),
}

/// Parses the arguments (without the program name); `env` reads an environment variable.
fn parse_args<I, E>(args: I, env: E) -> Result<Command, UsageError>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut args = args.into_iter();
    let mut model = None;
    let mut from_file = None;
    let (mut url, mut db, mut login, mut api_key, mut password) = (None, None, None, None, None);
    let mut opts = CodegenOptions::default();

    while let Some(arg) = args.next() {
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, UsageError> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(usage(format!("{name} needs a value"))),
            }
        };
        let no_value = |inline: &Option<String>| -> Result<(), UsageError> {
            match inline {
                Some(_) => Err(usage(format!("{flag} takes no value"))),
                None => Ok(()),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--from-file" => from_file = Some(value("--from-file")?),
            "--url" => url = Some(value("--url")?),
            "--db" => db = Some(value("--db")?),
            "--login" => login = Some(value("--login")?),
            "--api-key" => api_key = Some(value("--api-key")?),
            "--password" => password = Some(value("--password")?),
            "--type-name" => opts = opts.type_name(value("--type-name")?),
            "--skip" => opts = opts.skip_field(value("--skip")?),
            "--crate-path" => opts = opts.crate_path(value("--crate-path")?),
            "--stored-only" => {
                no_value(&inline)?;
                opts = opts.include_non_stored(false);
            }
            "--no-binary" => {
                no_value(&inline)?;
                opts = opts.include_binary(false);
            }
            "--no-enums" => {
                no_value(&inline)?;
                opts = opts.selection_enums(false);
            }
            "--strict-required" => {
                no_value(&inline)?;
                opts = opts.strict_required(true);
            }
            "--float-as-decimal" => {
                no_value(&inline)?;
                opts = opts.float_as_decimal(true);
            }
            "--no-serialize" => {
                no_value(&inline)?;
                opts = opts.derive_serialize(false);
            }
            f if f.starts_with('-') && f != "-" => {
                return Err(usage(format!("unknown option {f}")));
            }
            _ if model.is_none() => model = Some(arg),
            _ => return Err(usage(format!("unexpected argument `{arg}`"))),
        }
    }

    let model = model.ok_or_else(|| usage("missing the model name (e.g. res.partner)"))?;
    let live_flags =
        url.is_some() || db.is_some() || login.is_some() || api_key.is_some() || password.is_some();
    let source = match from_file {
        Some(_) if live_flags => {
            return Err(usage(
                "--from-file cannot be combined with --url, --db, --login, --api-key or --password",
            ));
        }
        Some(path) if path == "-" => Source::File(None),
        Some(path) => Source::File(Some(PathBuf::from(path))),
        None => {
            let url = url.or_else(|| env("ODOO_URL")).ok_or_else(|| {
                usage("give --from-file <path>, or --url <url> (or ODOO_URL) for a live server")
            })?;
            let db = db
                .or_else(|| env("ODOO_DB"))
                .ok_or_else(|| usage("a live server needs --db <db> (or ODOO_DB)"))?;
            let login = login
                .or_else(|| env("ODOO_LOGIN"))
                .ok_or_else(|| usage("a live server needs --login <login> (or ODOO_LOGIN)"))?;
            let secret = match (api_key, password) {
                (Some(_), Some(_)) => {
                    return Err(usage("give --api-key or --password, not both"));
                }
                (Some(key), None) => Secret::ApiKey(key.into()),
                (None, Some(pw)) => Secret::Password(pw.into()),
                (None, None) => match (env("ODOO_API_KEY"), env("ODOO_PASSWORD")) {
                    (Some(key), _) => Secret::ApiKey(key.into()),
                    (None, Some(pw)) => Secret::Password(pw.into()),
                    (None, None) => {
                        return Err(usage(
                            "a live server needs --api-key (or ODOO_API_KEY) or --password (or ODOO_PASSWORD)",
                        ));
                    }
                },
            };
            Source::Live(LiveConfig {
                url,
                db,
                login,
                secret,
            })
        }
    };
    Ok(Command::Generate(Box::new(Args {
        model,
        source,
        opts,
    })))
}

/// Fetches a model's fields from a live server: `GET /doc-bearer/<model>.json` on 19+ with an
/// API key (fields and methods), `fields_get` elsewhere. Either reply goes to `generate_model`.
fn fetch_fields_live(
    config: &LiveConfig,
    model: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    use odoo_connect::odoo::{OdooCall, OdooClient};
    let mut builder = OdooClient::builder(config.url.clone()).database(config.db.clone());
    builder = match &config.secret {
        Secret::ApiKey(k) => builder.api_key(config.login.clone(), k.clone()),
        Secret::Password(p) => builder.password(config.login.clone(), p.clone()),
    };
    let odoo = builder.build()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let version = odoo.version().await?;
        if version.has_json2()
            && matches!(config.secret, Secret::ApiKey(_))
            && let Ok(doc) = odoo.model_doc(model).await
        {
            return Ok(doc);
        }
        let call = OdooCall::new(model, "fields_get")
            .kwarg(
                "attributes",
                serde_json::json!([
                    "type",
                    "string",
                    "help",
                    "required",
                    "readonly",
                    "store",
                    "relation",
                    "selection",
                    "digits",
                    "company_dependent"
                ]),
            )
            .read_only();
        let fields: Value = odoo.call(&call).await?;
        Ok(fields)
    })
}

/// A failure after the arguments were understood (exit code 1), or a bad name (exit code 2).
#[derive(Debug)]
enum RunError {
    Usage(UsageError),
    Failed(String),
}

fn read_source(args: &Args) -> Result<Value, RunError> {
    match &args.source {
        Source::File(path) => {
            let (text, name) = match path {
                Some(path) => (
                    std::fs::read_to_string(path).map_err(|e| {
                        RunError::Failed(format!("cannot read {}: {e}", path.display()))
                    })?,
                    path.display().to_string(),
                ),
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| RunError::Failed(format!("cannot read stdin: {e}")))?;
                    (text, "stdin".to_owned())
                }
            };
            serde_json::from_str(&text)
                .map_err(|e| RunError::Failed(format!("{name} is not JSON: {e}")))
        }
        Source::Live(config) => fetch_fields_live(config, &args.model).map_err(|e| {
            RunError::Failed(format!("cannot fetch the fields from {}: {e}", config.url))
        }),
    }
}

fn run(args: &Args) -> Result<String, RunError> {
    let fields = read_source(args)?;
    generate_model(&args.model, &fields, &args.opts).map_err(|e| match e {
        CodegenError::InvalidModelName(_) | CodegenError::InvalidRustName(_) => {
            RunError::Usage(usage(e.to_string()))
        }
        other => RunError::Failed(other.to_string()),
    })
}

fn main() -> ExitCode {
    let command = parse_args(std::env::args().skip(1), |key| std::env::var(key).ok());
    let args = match command {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Generate(args)) => args,
        Err(e) => {
            eprintln!("codegen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => {
            print!("{code}");
            ExitCode::SUCCESS
        }
        Err(RunError::Usage(e)) => {
            eprintln!("codegen: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(RunError::Failed(e)) => {
            eprintln!("codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, UsageError> {
        parse_args(args.iter().map(|s| s.to_string()), |_| None)
    }

    #[test]
    fn file_source_and_options() {
        let Ok(Command::Generate(a)) = parse(&[
            "sale.order",
            "--from-file=x.json",
            "--stored-only",
            "--skip",
            "note",
            "--type-name",
            "Order",
        ]) else {
            panic!("not parsed");
        };
        assert_eq!(a.model, "sale.order");
        assert!(matches!(a.source, Source::File(Some(ref p)) if p == &PathBuf::from("x.json")));
        assert!(!a.opts.include_non_stored);
        assert_eq!(a.opts.skip_fields, ["note"]);
        assert_eq!(a.opts.type_name.as_deref(), Some("Order"));
    }

    #[test]
    fn usage_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["res.partner"]).is_err());
        assert!(parse(&["res.partner", "--from-file"]).is_err());
        assert!(parse(&["res.partner", "--bogus"]).is_err());
        assert!(parse(&["res.partner", "res.users", "--from-file", "x"]).is_err());
        assert!(parse(&["res.partner", "--from-file", "x", "--url", "http://h"]).is_err());
        assert!(parse(&["res.partner", "--url", "http://h", "--db", "d"]).is_err());
        assert!(parse(&["res.partner", "--no-binary=yes", "--from-file", "x"]).is_err());
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }

    #[test]
    fn live_source_from_the_environment() {
        let env = |k: &str| match k {
            "ODOO_URL" => Some("https://erp.example.com".to_owned()),
            "ODOO_DB" => Some("ps".to_owned()),
            "ODOO_LOGIN" => Some("admin".to_owned()),
            "ODOO_API_KEY" => Some("k3y".to_owned()),
            _ => None,
        };
        let Ok(Command::Generate(a)) = parse_args(["res.partner".to_owned()], env) else {
            panic!("not parsed");
        };
        let Source::Live(live) = a.source else {
            panic!("not live");
        };
        assert_eq!(live.db, "ps");
        assert!(matches!(live.secret, Secret::ApiKey(_)));
        assert!(!format!("{live:?}").contains("k3y"));
        assert!(fetch_fields_live(&live, "res.partner").is_err());
    }
}
