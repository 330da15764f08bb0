//! Reading what `kubectl` printed: the pod and node addresses of `kubectl get pods|nodes
//! -o wide` (or `-o json`), for `verify --from-kubectl` and the walkthrough's pasted
//! output. No AWS, no Kubernetes client.

/// Pod and node addresses from `kubectl get pods|nodes -o wide` text or `-o json`.
///
/// ```
/// let text = "NAME   READY   STATUS    RESTARTS   AGE   IP                         NODE\n\
///             web-1  1/1     Running   0          5m    2600:1f13:812:0:46f9::1    ip-1\n";
/// assert_eq!(eks6::kubectl::addresses_from_kubectl(text), ["2600:1f13:812:0:46f9::1"]);
/// ```
pub fn addresses_from_kubectl(text: &str) -> Vec<String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) else { return Vec::new() };
        let items: Vec<&serde_json::Value> = match v.get("items").and_then(|i| i.as_array()) {
            Some(a) => a.iter().collect(),
            None => vec![&v],
        };
        let mut out = Vec::new();
        for item in items {
            let status = &item["status"];
            if let Some(ips) = status["podIPs"].as_array() {
                out.extend(ips.iter().filter_map(|i| i["ip"].as_str().map(str::to_string)));
            } else if let Some(ip) = status["podIP"].as_str() {
                out.push(ip.to_string());
            }
            if let Some(addrs) = status["addresses"].as_array() {
                out.extend(
                    addrs
                        .iter()
                        .filter(|a| matches!(a["type"].as_str(), Some("InternalIP" | "ExternalIP")))
                        .filter_map(|a| a["address"].as_str().map(str::to_string)),
                );
            }
        }
        return out;
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let cols: Vec<&str> = header.split_whitespace().collect();
    let wanted: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(**c, "IP" | "INTERNAL-IP" | "EXTERNAL-IP"))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        for &i in &wanted {
            if let Some(f) = fields.get(i).filter(|f| **f != "<none>") {
                out.push((*f).to_string());
            }
        }
    }
    out
}
