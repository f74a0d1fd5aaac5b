//! Bash-like `${var}` substitution as Flux's post-build step does it (`fluxcd/pkg/envsubst`, a
//! fork of drone/envsubst).
//!
//! Syntax, and what differs from bash:
//!
//! - `${var}`; a bare `$var` is left alone. `$$` writes one `$` and the character after it is
//!   not the start of a substitution (`$${var}` writes `${var}`).
//! - Names are runs of letters, digits and `_` (`${a-b}` is an error: missing closing brace).
//! - `${var:=default}`, `${var=default}`, `${var:-default}`, `${var:?default}`,
//!   `${var:+default}` all write the default when the variable is empty or unset (`:+` and `:?`
//!   do not follow bash); the default may hold `${other}`.
//! - `${#var}` (byte length), `${var^}`, `${var^^}`, `${var,}`, `${var,,}` (case),
//!   `${var:offset}`, `${var:offset:length}` (bytes; negative values count from the end),
//!   `${var#glob}`, `${var##glob}`, `${var%glob}`, `${var%%glob}` (`*` also matches `/`),
//!   `${var/from/to}`, `${var//from/to}`, `${var/#from/to}`, `${var/%from/to}` (`\/` and `\\`
//!   escape inside them).
//! - Undefined variables become empty, or, in strict mode, are an error unless a default
//!   operator (`=`, `:=`, `:-`, …) handles them.
//! - Substitutions nest at most [`MAX_NESTING`] deep; deeper is an error (Go's growable stacks
//!   need no limit, ours do).

use std::collections::BTreeMap;

/// A substitution error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvsubstError {
    #[error("bad substitution")]
    BadSubstitution,
    #[error("missing closing brace")]
    MissingClosingBrace,
    #[error("unable to parse variable name")]
    VariableName,
    #[error("unable to parse substitution within function")]
    FunctionArgument,
    /// Strict mode: the variable is not defined and no default applies.
    #[error("variable not set (strict mode): {0:?}")]
    NotSet(String),
    /// More than [`MAX_NESTING`] substitutions inside one another.
    #[error("substitutions nested more than {MAX_NESTING} deep")]
    TooDeep,
}

/// How deep `${a=${b=…}}` may nest. Parsing and evaluating recurse once per level, and a
/// manifest of `${a=` repeated 10,000 times (50 KB) overflowed a 2 MiB thread stack.
pub const MAX_NESTING: usize = 64;

/// Where variables come from.
pub trait Lookup {
    /// The value of `name`, `None` when undefined.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

/// Substitutes `vars` into `text`. Non-strict: undefined variables are empty.
pub fn eval(text: &str, vars: &impl Lookup, strict: bool) -> Result<String, EnvsubstError> {
    let nodes = Parser::new(text).parse_all()?;
    let mut out = String::with_capacity(text.len());
    for node in &nodes {
        eval_node(node, vars, strict, &mut out)?;
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Func {
        name: String,
        /// The operator: `""` for `${var}`, `:=`, `#`, `//`, …
        op: String,
        args: Vec<Node>,
    },
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Substitutions open around `pos`.
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Parser {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn at_open(&self) -> bool {
        self.peek() == Some('$') && self.peek_at(1) == Some('{')
    }

    /// The whole text: literal runs and substitutions.
    fn parse_all(&mut self) -> Result<Vec<Node>, EnvsubstError> {
        let mut nodes = Vec::new();
        while self.pos < self.chars.len() {
            if self.at_open() {
                nodes.push(self.parse_open()?);
                continue;
            }
            let mut text = String::new();
            while let Some(c) = self.peek() {
                if self.at_open() {
                    break;
                }
                if c == '$' && self.peek_at(1) == Some('$') {
                    text.push('$');
                    self.pos += 2;
                    continue;
                }
                text.push(c);
                self.pos += 1;
            }
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    /// At `${`.
    fn parse_open(&mut self) -> Result<Node, EnvsubstError> {
        if self.depth >= MAX_NESTING {
            return Err(EnvsubstError::TooDeep);
        }
        self.pos += 2;
        self.depth += 1;
        let node = self.parse_func();
        self.depth -= 1;
        node
    }

    /// After `${`.
    fn parse_func(&mut self) -> Result<Node, EnvsubstError> {
        if self.peek() == Some('#') {
            return self.parse_length();
        }
        let name = self.take_while(is_ident);
        if name.is_empty() {
            return Err(EnvsubstError::VariableName);
        }
        match self.peek() {
            Some(':') => match self.peek_at(1) {
                Some('=' | '-' | '?' | '+') => self.parse_default(name),
                _ => self.parse_substring(name),
            },
            Some('=') => self.parse_default(name),
            Some(',' | '^') => {
                let op = self.take_limited(|c| c == ',' || c == '^', 2);
                self.close()?;
                Ok(func(name, op, vec![]))
            }
            Some('/') => self.parse_replace(name),
            Some(c @ ('#' | '%')) => {
                let op = self.take_limited(|x| x == c, 2);
                let arg = self.parse_arg(|c| c != '}', false)?;
                self.close()?;
                Ok(func(name, op, vec![arg]))
            }
            Some('}') => {
                self.pos += 1;
                Ok(func(name, String::new(), vec![]))
            }
            _ => Err(EnvsubstError::MissingClosingBrace),
        }
    }

    /// `${#name}`.
    fn parse_length(&mut self) -> Result<Node, EnvsubstError> {
        self.pos += 1;
        let name = self.take_while(is_ident);
        if name.is_empty() {
            return Err(EnvsubstError::BadSubstitution);
        }
        self.close()?;
        Ok(func(name, "#".into(), vec![]))
    }

    /// `${name=…}`, `${name:=…}`, `${name:-…}`, `${name:?…}`, `${name:+…}`: the default is a
    /// sequence of literal runs and substitutions up to the closing brace.
    fn parse_default(&mut self, name: String) -> Result<Node, EnvsubstError> {
        let op = if self.peek() == Some('=') {
            self.pos += 1;
            "=".to_owned()
        } else {
            let op: String = self.chars[self.pos..self.pos + 2].iter().collect();
            self.pos += 2;
            op
        };
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(func(name, op, args));
            }
            args.push(self.parse_arg(|c| c != '}', false)?);
        }
    }

    /// `${name:offset}` or `${name:offset:length}`.
    fn parse_substring(&mut self, name: String) -> Result<Node, EnvsubstError> {
        self.pos += 1;
        let offset = self.parse_arg(|c| c != ':' && c != '}', false)?;
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                return Ok(func(name, ":".into(), vec![offset]));
            }
            Some(':') => {
                self.take_while(|c| c == ':');
            }
            _ => return Err(EnvsubstError::BadSubstitution),
        }
        let length = self.parse_arg(|c| c != '}', false)?;
        self.close()?;
        Ok(func(name, ":".into(), vec![offset, length]))
    }

    /// `${name/from/to}`, `${name//from/to}`, `${name/#from/to}`, `${name/%from/to}`.
    fn parse_replace(&mut self, name: String) -> Result<Node, EnvsubstError> {
        let mut op = String::from("/");
        self.pos += 1;
        if let Some(c @ ('/' | '#' | '%')) = self.peek() {
            op.push(c);
            self.pos += 1;
        }
        let from = if self.peek() == Some('/') {
            Node::Text(String::new())
        } else {
            self.parse_arg(|c| c != '/', true)?
        };
        if self.peek() != Some('/') {
            return Err(EnvsubstError::BadSubstitution);
        }
        self.take_while(|c| c == '/');
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(func(name, op, vec![from]));
        }
        let to = self.parse_arg(|c| c != '}', true)?;
        self.close()?;
        Ok(func(name, op, vec![from, to]))
    }

    /// One argument: a nested `${…}`, or a literal run of accepted characters (at least one).
    /// With `escapes`, `$$`, `\/` and `\\` write their second character.
    fn parse_arg(
        &mut self,
        accept: impl Fn(char) -> bool,
        escapes: bool,
    ) -> Result<Node, EnvsubstError> {
        if self.at_open() {
            return self.parse_open();
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                break;
            }
            if escapes && self.escaped(c) {
                if let Some(next) = self.peek_at(1) {
                    text.push(next);
                }
                self.pos += 2;
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.pos += 1;
        }
        if text.is_empty() {
            return Err(EnvsubstError::FunctionArgument);
        }
        Ok(Node::Text(text))
    }

    fn escaped(&self, c: char) -> bool {
        matches!(
            (c, self.peek_at(1)),
            ('$', Some('$')) | ('\\', Some('/' | '\\'))
        )
    }

    fn close(&mut self) -> Result<(), EnvsubstError> {
        if self.peek() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(EnvsubstError::BadSubstitution)
        }
    }

    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn take_limited(&mut self, accept: impl Fn(char) -> bool, max: usize) -> String {
        let start = self.pos;
        while self.pos - start < max && self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn func(name: String, op: String, args: Vec<Node>) -> Node {
    Node::Func { name, op, args }
}

fn eval_node(
    node: &Node,
    vars: &impl Lookup,
    strict: bool,
    out: &mut String,
) -> Result<(), EnvsubstError> {
    match node {
        Node::Text(t) => out.push_str(t),
        Node::Func { name, op, args } => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                let mut s = String::new();
                eval_node(arg, vars, strict, &mut s)?;
                values.push(s);
            }
            let value = match vars.get(name) {
                Some(v) => v,
                None if strict && !is_default_op(op) => {
                    return Err(EnvsubstError::NotSet(name.clone()));
                }
                None => "",
            };
            out.push_str(&apply(op, value, &values));
        }
    }
    Ok(())
}

/// Operators that supply a value for an unset variable (exempt from strict mode).
fn is_default_op(op: &str) -> bool {
    matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(op: &str, s: &str, args: &[String]) -> String {
    match op {
        "," => map_first(s, lower_char),
        ",," => s.chars().map(lower_char).collect(),
        "^" => map_first(s, upper_char),
        "^^" => s.chars().map(upper_char).collect(),
        "#" if args.is_empty() => s.len().to_string(),
        "#" => trim_prefix(s, &args[0], false),
        "##" => trim_prefix(s, &args[0], true),
        "%" => trim_suffix(s, &args[0], false),
        "%%" => trim_suffix(s, &args[0], true),
        ":" => substring(s, args),
        "/#" => match args {
            [from, to] if s.starts_with(from.as_str()) => s.replacen(from.as_str(), to, 1),
            _ => s.to_owned(),
        },
        "/%" => match args {
            [from, to] if s.ends_with(from.as_str()) => {
                format!("{}{to}", &s[..s.len() - from.len()])
            }
            _ => s.to_owned(),
        },
        "/" => match args {
            [] => s.to_owned(),
            [from] => s.replacen(from.as_str(), "", 1),
            [from, to, ..] => s.replacen(from.as_str(), to, 1),
        },
        "//" => match args {
            [] => s.to_owned(),
            [from] => s.replace(from.as_str(), ""),
            [from, to, ..] => s.replace(from.as_str(), to),
        },
        // The default operators, and any other: the value, else the arguments joined.
        _ if s.is_empty() && !args.is_empty() => args.concat(),
        _ => s.to_owned(),
    }
}

/// Go's `unicode.ToUpper`: one character for one (Rust's full mapping turns `ß` into `SS`).
fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower_char(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn map_first(s: &str, f: fn(char) -> char) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => std::iter::once(f(first)).chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `strconv.Atoi`: optional sign, decimal digits.
fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `${var:offset[:length]}` over bytes, as Go slices strings.
fn substring(s: &str, args: &[String]) -> String {
    let bytes = s.as_bytes();
    let len = bytes.len() as i64;
    let slice = |from: i64, to: i64| {
        String::from_utf8_lossy(&bytes[from as usize..to as usize]).into_owned()
    };
    let Some(first) = args.first() else {
        return s.to_owned();
    };
    let Some(mut pos) = atoi(first) else {
        return s.to_owned();
    };
    if pos < 0 {
        pos = (len + pos).max(0);
    }
    let Some(second) = args.get(1) else {
        return if pos < len {
            slice(pos, len)
        } else {
            String::new()
        };
    };
    let Some(length) = atoi(second) else {
        return s.to_owned();
    };
    if length < 0 {
        let end = len + length;
        return if end < pos {
            String::new()
        } else {
            slice(pos, end)
        };
    }
    if pos.saturating_add(length) >= len {
        return if pos < len {
            slice(pos, len)
        } else {
            String::new()
        };
    }
    slice(pos, pos + length)
}

/// `#`/`##`: removes the shortest/longest non-empty prefix matching the glob.
fn trim_prefix(s: &str, pattern: &str, longest: bool) -> String {
    let pattern: Vec<char> = pattern.chars().collect();
    let chars: Vec<char> = s.chars().collect();
    match matching_prefix(&chars, &pattern, longest) {
        Some(n) => chars[n..].iter().collect(),
        None => s.to_owned(),
    }
}

/// `%`/`%%`: the same on the reversed string and pattern, as drone/envsubst does it.
fn trim_suffix(s: &str, pattern: &str, longest: bool) -> String {
    let pattern: Vec<char> = pattern.chars().rev().collect();
    let chars: Vec<char> = s.chars().rev().collect();
    match matching_prefix(&chars, &pattern, longest) {
        Some(n) => chars[n..].iter().rev().collect(),
        None => s.to_owned(),
    }
}

/// The length of the shortest or longest non-empty prefix of `s` that `pattern` matches; a
/// malformed pattern matches nothing.
fn matching_prefix(s: &[char], pattern: &[char], longest: bool) -> Option<usize> {
    let tokens = compile(pattern).ok()?;
    let matched = prefixes_matching(&tokens, s);
    let mut lengths = (1..=s.len()).filter(|n| matched[*n]);
    if longest {
        lengths.next_back()
    } else {
        lengths.next()
    }
}

/// One element of a glob; each but `Star` matches exactly one character.
enum Token {
    Star,
    Any,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star | Token::Any => true,
            Token::Char(p) => *p == c,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        }
    }
}

/// Shell glob: `*` (any run, `/` included), `?`, `[…]` / `[^…]` with ranges, `\` escapes.
/// `Err` for a malformed pattern.
fn compile(mut pattern: &[char]) -> Result<Vec<Token>, ()> {
    let mut tokens = Vec::new();
    while let Some((p, rest)) = pattern.split_first() {
        pattern = rest;
        tokens.push(match p {
            '*' => Token::Star,
            '?' => Token::Any,
            '[' => {
                let (class, rest) = compile_class(pattern)?;
                pattern = rest;
                class
            }
            '\\' => {
                let (c, rest) = pattern.split_first().ok_or(())?;
                pattern = rest;
                Token::Char(*c)
            }
            c => Token::Char(*c),
        });
    }
    Ok(tokens)
}

/// A class body (after `[`) and the pattern after its `]`.
fn compile_class(mut pattern: &[char]) -> Result<(Token, &[char]), ()> {
    let negated = pattern.first() == Some(&'^');
    if negated {
        pattern = &pattern[1..];
    }
    let mut ranges = Vec::new();
    loop {
        match pattern.first() {
            None => return Err(()),
            Some(']') if !ranges.is_empty() => {
                return Ok((Token::Class { negated, ranges }, &pattern[1..]));
            }
            _ => {}
        }
        let (lo, rest) = class_char(pattern)?;
        pattern = rest;
        let hi = if pattern.first() == Some(&'-') && pattern.get(1).is_some_and(|c| *c != ']') {
            let (hi, rest) = class_char(&pattern[1..])?;
            pattern = rest;
            hi
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
}

fn class_char(pattern: &[char]) -> Result<(char, &[char]), ()> {
    match pattern {
        ['\\', c, rest @ ..] => Ok((*c, rest)),
        ['\\'] | [] => Err(()),
        [c, rest @ ..] => Ok((*c, rest)),
    }
}

/// For each `n` in `0..=name.len()`, whether the glob matches `name[..n]`: one pass over the
/// name with the set of glob positions reached (an NFA). Backtracking over `*` instead took
/// exponential time: `${v#*a*a*a*ab}` on 200 `a`s ran for 24 s.
fn prefixes_matching(tokens: &[Token], name: &[char]) -> Vec<bool> {
    // `reached[i]`: the first `i` tokens can match what was read; a `*` may match nothing.
    let close = |reached: &mut Vec<bool>| {
        for i in 0..tokens.len() {
            if reached[i] && matches!(tokens[i], Token::Star) {
                reached[i + 1] = true;
            }
        }
    };
    let mut reached = vec![false; tokens.len() + 1];
    reached[0] = true;
    close(&mut reached);
    let mut out = Vec::with_capacity(name.len() + 1);
    out.push(reached[tokens.len()]);
    for c in name {
        let mut next = vec![false; tokens.len() + 1];
        for (i, token) in tokens.iter().enumerate() {
            if !reached[i] {
                continue;
            }
            match token {
                Token::Star => next[i] = true,
                t if t.matches(*c) => next[i + 1] = true,
                _ => {}
            }
        }
        close(&mut next);
        reached = next;
        out.push(reached[tokens.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn sub(text: &str, pairs: &[(&str, &str)]) -> String {
        eval(text, &vars(pairs), false).unwrap()
    }

    // Expected values follow the cases Flux's envsubst documents and tests (tldp.org's
    // parameter substitution examples).
    #[test]
    fn expands_like_flux() {
        let v = "abcdEFGH28ij";
        assert_eq!(sub("abcdEFGH28ij", &[]), "abcdEFGH28ij");
        assert_eq!(sub("${#var01}", &[("var01", v)]), "12");
        assert_eq!(sub("${var01^}", &[("var01", v)]), "AbcdEFGH28ij");
        assert_eq!(sub("${var01^^}", &[("var01", v)]), "ABCDEFGH28IJ");
        assert_eq!(
            sub("${var01,}", &[("var01", "ABCDEFGH28IJ")]),
            "aBCDEFGH28IJ"
        );
        assert_eq!(
            sub("${var01,,}", &[("var01", "ABCDEFGH28IJ")]),
            "abcdefgh28ij"
        );
        let path = "/home/bozo/ideas/thoughts.for.today";
        assert_eq!(
            sub("${path_name:11}", &[("path_name", path)]),
            "ideas/thoughts.for.today"
        );
        assert_eq!(sub("${path_name:11:5}", &[("path_name", path)]), "ideas");
        assert_eq!(sub("${s:1:-1}", &[("s", "[x]")]), "x");
        assert_eq!(sub("${s:-2}", &[("s", "")]), "2");
        assert_eq!(sub("${var=xyz}", &[("var", "abc")]), "abc");
        assert_eq!(sub("${var=xyz}", &[]), "xyz");
        assert_eq!(sub("${var:=xyz}", &[("var", "")]), "xyz");
        assert_eq!(
            sub("something ${var=${default_var}}", &[("default_var", "foo")]),
            "something foo"
        );
        assert_eq!(
            sub("foo: ${var=prefix${d}-suffix}", &[("d", "foo1")]),
            "foo: prefixfoo1-suffix"
        );
        let z = "abcABC123ABCabc";
        assert_eq!(
            sub("${stringZ/%abc/XYZ}", &[("stringZ", z)]),
            "abcABC123ABCXYZ"
        );
        assert_eq!(
            sub("${stringZ/#abc/XYZ}", &[("stringZ", z)]),
            "XYZABC123ABCabc"
        );
        assert_eq!(
            sub("${stringZ//abc/xyz}", &[("stringZ", z)]),
            "xyzABC123ABCxyz"
        );
        assert_eq!(
            sub("${stringZ/abc/xyz}", &[("stringZ", z)]),
            "xyzABC123ABCabc"
        );
        assert_eq!(sub("${s/#/prefix-}", &[("s", "v")]), "prefix-v");
        assert_eq!(sub("${s/%/-suffix}", &[("s", "v")]), "v-suffix");
        assert_eq!(sub(r"${s/\//-}", &[("s", "foo/bar")]), "foo-bar");
        assert_eq!(sub(r"${s//\//-}", &[("s", "foo/bar/baz")]), "foo-bar-baz");
        assert_eq!(sub("${s/./}", &[("s", "foo.bar")]), "foobar");
        assert_eq!(sub("${f#*.}", &[("f", "bash.string.txt")]), "string.txt");
        assert_eq!(sub("${f##*.}", &[("f", "bash.string.txt")]), "txt");
        assert_eq!(sub("${f#*/}", &[("f", "/path/to/file")]), "path/to/file");
        assert_eq!(sub("${f##*/}", &[("f", "/path/to/file")]), "file");
        assert_eq!(sub("${f%.*}", &[("f", "bash.string.txt")]), "bash.string");
        assert_eq!(sub("${f%%.*}", &[("f", "bash.string.txt")]), "bash");
        assert_eq!(sub("${var=${var01^^}}", &[("var01", v)]), "ABCDEFGH28IJ");
        assert_eq!(
            sub(r"\\something ${var=${d}}", &[("d", "foo")]),
            r"\\something foo"
        );
    }

    #[test]
    fn dollars_escape_and_bare_names_stay() {
        let v = [("var01", "abcdEFGH28ij")];
        assert_eq!(sub("$${var01}", &v), "${var01}");
        assert_eq!(
            sub("some text ${var01}$${var$${var01}$var01${var01}", &v),
            "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"
        );
        assert_eq!(
            sub("something $${var=${d}}", &[("d", "foo")]),
            "something ${var=foo}"
        );
        assert_eq!(sub("$$$", &[]), "$$");
        assert_eq!(sub("cost: $5 and $", &[]), "cost: $5 and $");
    }

    #[test]
    fn strict_mode_refuses_undefined_variables_without_defaults() {
        let strict = |text: &str| eval(text, &vars(&[]), true);
        assert_eq!(
            strict("${missing}").unwrap_err(),
            EnvsubstError::NotSet("missing".into())
        );
        assert_eq!(
            strict("${missing}").unwrap_err().to_string(),
            r#"variable not set (strict mode): "missing""#
        );
        for text in [
            "${#missing}",
            "${missing^^}",
            "${missing:0:1}",
            "${missing/a/b}",
            "${missing%%x}",
        ] {
            assert!(strict(text).is_err(), "{text}");
        }
        assert_eq!(strict("${missing:=fallback}").unwrap(), "fallback");
        assert_eq!(strict("${missing=assigned}").unwrap(), "assigned");
        assert_eq!(strict("${missing:-x}").unwrap(), "x");
        assert_eq!(eval("${empty}", &vars(&[("empty", "")]), true).unwrap(), "");
        assert_eq!(sub("a${missing}b", &[]), "ab");
    }

    #[test]
    fn malformed_substitutions_are_errors() {
        let err = |text: &str| eval(text, &vars(&[("a", "x")]), false).unwrap_err();
        assert_eq!(err("${a-b}"), EnvsubstError::MissingClosingBrace);
        assert_eq!(err("${a"), EnvsubstError::MissingClosingBrace);
        assert_eq!(err("${}"), EnvsubstError::VariableName);
        assert_eq!(err("${ a}"), EnvsubstError::VariableName);
        assert_eq!(err("${a:=x"), EnvsubstError::FunctionArgument);
        assert_eq!(err("${a:}"), EnvsubstError::FunctionArgument);
        assert_eq!(err("${#}"), EnvsubstError::BadSubstitution);
        assert_eq!(err("${a^x}"), EnvsubstError::BadSubstitution);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // Each level recursed: 10,000 levels (50 KB of manifest) overflowed a 2 MiB stack.
        let nest = |n: usize| format!("{}x{}", "${a=".repeat(n), "}".repeat(n));
        assert_eq!(sub(&nest(MAX_NESTING), &[]), "x");
        let err = eval(&nest(MAX_NESTING + 1), &vars(&[]), false).unwrap_err();
        assert_eq!(err, EnvsubstError::TooDeep);
        assert_eq!(err.to_string(), "substitutions nested more than 64 deep");
        let err = eval(&nest(100_000), &vars(&[]), false).unwrap_err();
        assert_eq!(err, EnvsubstError::TooDeep);
    }

    #[test]
    fn globs() {
        let m = |p: &str, n: &str| {
            let tokens = compile(&p.chars().collect::<Vec<_>>())?;
            Ok::<_, ()>(
                prefixes_matching(&tokens, &n.chars().collect::<Vec<_>>())[n.chars().count()],
            )
        };
        assert_eq!(m("a*c", "abbc"), Ok(true));
        assert_eq!(m("a?c", "abc"), Ok(true));
        assert_eq!(m("[a-c]x", "bx"), Ok(true));
        assert_eq!(m("[^a-c]x", "bx"), Ok(false));
        assert_eq!(m(r"\*", "*"), Ok(true));
        assert_eq!(m("[a-", "a"), Err(()));
        assert_eq!(m(r"a\", "a"), Err(()));
        assert_eq!(m("[]a]", "]"), Ok(true));
        assert_eq!(m("**b", "ab"), Ok(true));
        assert_eq!(m("*", ""), Ok(true));
        assert_eq!(sub("${f#[a}", &[("f", "abc")]), "abc");
    }

    #[test]
    fn many_stars_do_not_backtrack_exponentially() {
        // Backtracking took hours here; `*a*a*a*ab` on 200 `a`s took 24 s.
        let v = [("v", "a".repeat(300))];
        let v: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let stars = "*a".repeat(8);
        assert_eq!(sub(&format!("${{v#{stars}b}}"), &v), "a".repeat(300));
        assert_eq!(sub(&format!("${{v%b{stars}}}"), &v), "a".repeat(300));
        assert_eq!(sub(&format!("${{v#{stars}}}"), &v), "a".repeat(292));
        assert_eq!(sub(&format!("${{v##{stars}}}"), &v), "");
        assert_eq!(sub(&format!("${{v%%{stars}}}"), &v), "");
    }
}
