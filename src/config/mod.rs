//! keepalived.conf: reading, the typed model, validation.
//!
//! ```text
//! files --prelex--> logical lines --grammar--> tree --blocks (keyword tables)--> Config
//!       --complete--> defaults resolved, cross-checked --env (optional)--> checked on this machine
//! ```
//! Every step reports into one list of [`Diagnostic`]s with file, line and column.

pub mod ast;
pub mod blocks;
pub mod build;
pub mod complete;
pub mod diag;
pub mod env;
pub mod fasthash;
pub mod grammar;
pub mod prelex;
pub mod source;
pub mod table;
pub mod values;

use std::path::Path;

pub use blocks::Config;
pub use diag::{Diagnostic, Severity};
pub use source::SourceMap;

use build::Cx;
use diag::Diagnostics;
use prelex::{PrelexOptions, Prelexer};
use table::TableDoc;

/// How to read a configuration.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `-i/--config-id` for `@ID` lines (keepalived's default: the short hostname).
    pub config_id: String,
    /// Seed of `${_RANDOM}`; `None` for a time-based one.
    pub random_seed: Option<u64>,
    /// Guards against runaway `~SEQ` expansion: lines and bytes produced.
    pub max_lines: usize,
    pub max_bytes: usize,
    /// keepalived's `-e/--all-config`: every include problem is an error.
    pub all_config: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_id: String::new(),
            random_seed: None,
            max_lines: PrelexOptions::default().max_lines,
            max_bytes: PrelexOptions::default().max_bytes,
            all_config: false,
        }
    }
}

/// The result of reading a configuration: the model (as complete as the errors allow), the
/// text it came from, and what is wrong with it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

/// Reads and checks the configuration in `path`; with `env`, also against the machine.
pub fn load(path: &Path, opts: &LoadOptions, env: Option<&dyn env::Env>) -> Loaded {
    load_from(path, None, opts, env)
}

/// Checks `text` as the configuration file `path` (which need not exist; includes are read
/// relative to it).
pub fn load_text(
    path: &Path,
    text: &[u8],
    opts: &LoadOptions,
    env: Option<&dyn env::Env>,
) -> Loaded {
    load_from(path, Some(text), opts, env)
}

fn load_from(
    path: &Path,
    text: Option<&[u8]>,
    opts: &LoadOptions,
    env: Option<&dyn env::Env>,
) -> Loaded {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::default();
    let popts = PrelexOptions {
        config_id: opts.config_id.clone(),
        random_seed: opts.random_seed.unwrap_or_else(time_seed),
        max_lines: opts.max_lines,
        max_bytes: opts.max_bytes,
        all_config: opts.all_config,
    };
    // The pre-lexer, the grammar and the keyword tables run as a pipeline: each top-level block
    // is read into the model as soon as it is complete, then dropped.
    let mut lex_diags = Diagnostics::default();
    let mut prelexer = match text {
        Some(t) => Prelexer::with_text(path, t, &popts, &mut sources, &mut lex_diags),
        None => Prelexer::new(path, &popts, &mut sources, &mut lex_diags),
    };
    let tables = blocks::all_tables();
    let mut tree = grammar::TreeBuilder::new(&starts_top_level_block);
    let mut config = Config::default();
    let mut seen = build::Seen::default();
    let mut tree_diags = Diagnostics::default();
    let mut cx = Cx::new(&mut diags, &tables);
    while let Some(line) = prelexer.next_line() {
        for node in tree.push(line, &mut tree_diags) {
            build::apply_node(&blocks::ROOT, &mut config, &node, &mut cx, &mut seen);
        }
    }
    for node in tree.finish(&mut tree_diags) {
        build::apply_node(&blocks::ROOT, &mut config, &node, &mut cx, &mut seen);
    }
    drop(prelexer);
    // In the order found: reading, structure, keywords.
    let mut all = lex_diags;
    all.extend(tree_diags.into_vec());
    all.extend(diags.into_vec());
    let mut diags = all;
    complete::complete(&mut config, &mut diags);
    if let Some(env) = env {
        env::check_env(&config, env, &mut diags);
    }
    diags.sort_by_location();
    Loaded {
        config,
        sources,
        diagnostics: diags.into_vec(),
    }
}

fn time_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// For the grammar's recovery: `keyword` (followed by a block) is a top-level block keyword
/// that cannot appear where it is (the innermost open block, given the open blocks' keywords).
fn starts_top_level_block(open: &[&str], keyword: &str) -> bool {
    let root: &(dyn TableDoc + Sync) = &blocks::ROOT;
    let is_root_block = root.sub(keyword).is_some() || root.takes_values(keyword);
    if !is_root_block {
        return false;
    }
    let mut table = root;
    for kw in open {
        if table.takes_values(kw) {
            return true;
        }
        match table.sub(kw) {
            Some(t) => table = t,
            None => return true,
        }
    }
    !table.has(keyword)
}
