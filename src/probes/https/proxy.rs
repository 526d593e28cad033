//! The proxy in the path to an endpoint, from `HTTPS_PROXY` / `NO_PROXY`.

/// A proxy from the environment, shown without credentials.
pub(super) struct Proxy {
    pub(super) addr: String,
    pub(super) shown: String,
}

pub(super) struct ProxyEnv {
    pub(super) https_proxy: Option<String>,
    pub(super) no_proxy: Option<String>,
}

pub(super) fn env_proxy() -> ProxyEnv {
    let var = |a: &str, b: &str| {
        std::env::var(a)
            .or_else(|_| std::env::var(b))
            .ok()
            .filter(|v| !v.trim().is_empty())
    };
    ProxyEnv {
        https_proxy: var("HTTPS_PROXY", "https_proxy").or_else(|| var("ALL_PROXY", "all_proxy")),
        no_proxy: var("NO_PROXY", "no_proxy"),
    }
}

/// The proxy HTTPS to `host` goes through, honouring NO_PROXY (`*`, names and `.suffix`es).
pub(super) fn proxy_for(host: &str, env: &ProxyEnv) -> Option<Proxy> {
    let raw = env.https_proxy.as_deref()?.trim();
    let host = host.to_ascii_lowercase();
    if let Some(list) = &env.no_proxy {
        for entry in list.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            let bare = entry.trim_start_matches("*.").trim_start_matches('.');
            if entry == "*"
                || (!bare.is_empty() && (host == bare || host.ends_with(&format!(".{bare}"))))
            {
                return None;
            }
        }
    }
    let rest = raw.split_once("://").map(|(_, r)| r).unwrap_or(raw);
    let rest = rest.split('/').next().unwrap_or(rest);
    // Credentials in the URL never reach the report.
    let hostport = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    if hostport.is_empty() {
        return None;
    }
    let addr = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    Some(Proxy {
        shown: format!("http://{addr}"),
        addr,
    })
}
