//! A history step's `created_by` in the form a Dockerfile has it: shared by the layer
//! table, the base image's boundary, the Dockerfile matcher and the diff.

/// The Dockerfile-style form of a history `created_by`: `/bin/sh -c #(nop) ENV A=b`
/// becomes `ENV A=b`, `/bin/sh -c apt-get …` becomes `RUN apt-get …`, BuildKit's
/// `# buildkit` suffix goes, and whitespace runs (newlines of `\` continuations)
/// collapse to one space.
pub fn instruction(created_by: &str) -> String {
    let mut s = created_by.trim();
    if let Some(rest) = s.strip_suffix("# buildkit") {
        s = rest.trim_end();
    }
    let text = if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        rest.trim().to_string()
    } else if let Some(rest) = s
        .strip_prefix("/bin/sh -c ")
        .or_else(|| s.strip_prefix("RUN /bin/sh -c "))
    {
        format!("RUN {}", rest.trim())
    } else if let Some(rest) = s.strip_prefix("|").or_else(|| s.strip_prefix("RUN |")) {
        // BuildKit with build args: `|2 A=1 B=2 /bin/sh -c cmd`.
        match rest.split_once("/bin/sh -c ") {
            Some((_, cmd)) => format!("RUN {}", cmd.trim()),
            None => s.to_string(),
        }
    } else {
        s.to_string()
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        // `ADD file:<64 hex> in /`: the content hash says little; keep 12 digits.
        match word.split_once(':') {
            Some((kind @ ("file" | "dir" | "multi"), hash))
                if hash.len() > 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                out.push_str(kind);
                out.push(':');
                out.push_str(&hash[..12]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// The arguments of an instruction in Dockerfile form (what [`instruction`] gives)
/// when its keyword is `keyword` (`CMD`, `WORKDIR`, `COPY`, ...).
pub fn arguments<'t>(text: &'t str, keyword: &str) -> Option<&'t str> {
    text.strip_prefix(keyword)?.strip_prefix(' ').map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::instruction;

    #[test]
    fn instructions_read_like_a_dockerfile() {
        assert_eq!(
            instruction("/bin/sh -c #(nop)  CMD [\"sh\"]"),
            "CMD [\"sh\"]"
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update &&     apt-get install -y \\\n  curl"),
            "RUN apt-get update && apt-get install -y \\ curl"
        );
        assert_eq!(instruction("COPY . /app # buildkit"), "COPY . /app");
        assert_eq!(
            instruction("RUN /bin/sh -c pip install -r req.txt # buildkit"),
            "RUN pip install -r req.txt"
        );
        assert_eq!(instruction("|1 V=2 /bin/sh -c make"), "RUN make");
        assert_eq!(
            instruction("RUN |1 V=2 /bin/sh -c make # buildkit"),
            "RUN make"
        );
        assert_eq!(
            instruction(&format!(
                "/bin/sh -c #(nop) ADD file:{} in / ",
                "ab".repeat(32)
            )),
            "ADD file:abababababab in /"
        );
    }
}
