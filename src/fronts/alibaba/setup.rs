//! `novakeys credentials --cloud alibaba`: what Alibaba's clients read, as shell lines.

use super::REGION_ALIAS;

/// A value as a shell word: as it is when that is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+=%,".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What `novakeys credentials --cloud alibaba` prints: shell lines for `eval`. The Tea SDKs'
/// default credential chain (Python `alibabacloud-credentials`, Node `@alicloud/credentials`)
/// reads `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`; the legacy `aliyun-python-sdk-core` reads
/// `ALIYUN_ACCESS_KEY_ID`/`_SECRET` when its client is made without keys. No SDK reads a
/// region or endpoint from the environment: `ALIBABA_CLOUD_REGION_ID` is the name Alibaba's
/// CLI and tools use, `ALIBABA_CLOUD_ECS_ENDPOINT` (host:port, what `Config(endpoint=…)`
/// takes) is ours; pass both to the client (the README's snippet does).
pub fn client_setup(setup: &crate::fronts::ClientSetup) -> anyhow::Result<String> {
    let endpoint = setup
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (access, secret) = (shell_word(setup.access), shell_word(setup.secret));
    Ok(format!(
        "# Alibaba Cloud ECS at novakeys: user {user}, project {project}\n\
         # (the Tea SDKs read the first two; the legacy aliyun-python-sdk-core the ALIYUN_ pair)\n\
         export ALIBABA_CLOUD_ACCESS_KEY_ID={access}\n\
         export ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}\n\
         export ALIYUN_ACCESS_KEY_ID={access}\n\
         export ALIYUN_ACCESS_KEY_SECRET={secret}\n\
         # no SDK reads these two: pass them, e.g. Config(region_id=..., endpoint=..., protocol='http')\n\
         export ALIBABA_CLOUD_REGION_ID={REGION_ALIAS}\n\
         export ALIBABA_CLOUD_ECS_ENDPOINT={endpoint}\n",
        user = setup.user_name.replace('\n', " "),
        project = setup.project_name.replace('\n', " "),
        endpoint = shell_word(endpoint),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fronts::ClientSetup;

    #[test]
    fn client_setup_prints_what_the_sdks_read() {
        let setup = ClientSetup {
            access: "LTAI5tNovakeysDemo000001",
            secret: "NovakeysDemoAlibabaSecret00001",
            endpoint: "http://127.0.0.1:8781".into(),
            user_name: "demo",
            project_name: "demo",
            data_path: None,
            profile: None,
        };
        let text = client_setup(&setup).unwrap();
        let exports: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .collect();
        assert_eq!(
            exports,
            [
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tNovakeysDemo000001"),
                (
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                    "NovakeysDemoAlibabaSecret00001"
                ),
                ("ALIYUN_ACCESS_KEY_ID", "LTAI5tNovakeysDemo000001"),
                ("ALIYUN_ACCESS_KEY_SECRET", "NovakeysDemoAlibabaSecret00001"),
                ("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou"),
                ("ALIBABA_CLOUD_ECS_ENDPOINT", "127.0.0.1:8781"),
            ]
        );
        assert!(text
            .lines()
            .all(|l| l.starts_with("export ") || l.starts_with('#')));
        let odd = ClientSetup {
            secret: "it's $x",
            ..setup
        };
        assert!(client_setup(&odd)
            .unwrap()
            .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET='it'\\''s $x'"));
    }
}
