//! What a command that reads the crate starts from: the workspace the global flags select, its
//! `dualtrack.toml`, and the directory the command line's paths are read from; with them the
//! function filter and the specs, the same way for every command.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::analyze::filter::FunctionFilter;
use crate::cli::{FunctionArgs, GlobalArgs, SpecArgs};
use crate::config::Config;
use crate::error::InputError;
use crate::spec::model::Spec;
use crate::workspace::Workspace;

pub struct Context {
    pub workspace: Workspace,
    pub config: Config,
    /// Where `--fn`, `--file`, `--spec` and other paths given on the command line start.
    pub cwd: PathBuf,
}

impl Context {
    /// The workspace `--manifest-path`, `-p` and `--workspace` select, and its config.
    pub fn open(global: &GlobalArgs) -> anyhow::Result<Context> {
        let workspace = Workspace::load(&global.package_selection(global.workspace))?;
        workspace.check_features(&global.feature_selection())?;
        let config = Config::load(&workspace.root)?;
        let cwd = std::env::current_dir().context("failed to read the current directory")?;
        Ok(Context {
            workspace,
            config,
            cwd,
        })
    }

    /// The functions `--fn` and `--file` leave in.
    pub fn filter(&self, functions: &FunctionArgs) -> Result<FunctionFilter, InputError> {
        functions.filter(&self.workspace.root, &self.cwd)
    }

    /// The specs `--spec` names, else the config's, else the usual places; warnings about
    /// them on stderr unless `quiet`.
    pub fn specs(&self, specs: &SpecArgs, quiet: bool) -> Result<Vec<Spec>, InputError> {
        crate::spec::load_specs(
            &self.workspace,
            &specs.spec,
            &self.config.spec,
            &self.cwd,
            quiet,
        )
    }
}
