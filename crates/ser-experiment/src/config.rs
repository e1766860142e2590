//! The experiment file (TOML): corpus, protocol, architectures and the run configuration.
//!
//! ```toml
//! name = "TESS, random stratified 80/20 over 5 seeds"
//! corpus = "tess"            # optional; default tess
//! data = "../shared/data/tess" # optional; relative to this file; default: the TESS folder
//! # or several corpora at once (instead of corpus/data):
//! # corpora = [{ kind = "tess" }, { kind = "ravdess", data = "../data/ravdess" }]
//! validation_fraction = 0.1  # share of the training part used for early stopping
//! architectures = ["cnn1d"]  # optional; one set of runs per architecture
//! ensemble = false           # optional; also score the models' average, clip by clip
//! run = "run.toml"           # optional base run file ([model], [features], [training])
//! # or models of different recipes, each a run file used as it is (instead of run,
//! # architectures and the inline sections); each is named by its file's stem:
//! # members = ["../models/default.toml", "../models/speech-frames.toml"]
//!
//! [protocol]
//! kind = "random"            # random | speaker | speaker_folds | kfold | cross_corpus
//! seeds = [1, 2, 3, 4, 5]
//! test_fraction = 0.2
//!
//! [training]                 # optional; replaces the run file's [training] section
//! epochs = 20
//! ```

use std::path::{Path, PathBuf};

use ser_data::{CorpusKind, CorpusSource};
use ser_features::FeatureConfig;
use ser_model::{Architecture, ModelConfig, RunConfig, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::ExperimentError;

/// How the corpus is split into runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Protocol {
    /// Stratified random split, once per seed (the seed also seeds training).
    Random {
        #[serde(default = "default_seeds")]
        seeds: Vec<u64>,
        #[serde(default = "default_test_fraction")]
        test_fraction: f64,
    },
    /// Speaker-independent: one run per test speaker, trained on every other speaker.
    /// Without `test_speakers`, every speaker of the corpus is tested once.
    Speaker {
        #[serde(default)]
        test_speakers: Vec<String>,
        /// Training seeds: every speaker tested once per seed, every model trained with it;
        /// none: once, with the models' own `[training] seed`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        seeds: Vec<u64>,
    },
    /// Speaker folds: one run per group of speakers, tested together and trained on every
    /// other speaker (of every corpus).
    SpeakerFolds {
        folds: Vec<Vec<String>>,
        /// Training seeds: every fold run once per seed, as for `speaker`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        seeds: Vec<u64>,
    },
    /// Stratified k-fold: one run per fold.
    Kfold { k: usize },
    /// Train on the experiment's corpora, test on another one.
    CrossCorpus {
        test_corpus: CorpusKind,
        /// Folder (or manifest) of the test corpus, relative to the experiment file;
        /// default: its usual place in the data folder.
        #[serde(default)]
        test_data: Option<PathBuf>,
        /// Training seeds, one run each, every member trained with it; none: one run, each
        /// member with its own `[training] seed`. A cross-corpus figure moves with the seed
        /// (TESS -> RAVDESS by up to 5 points), so a mean over seeds says more than one run.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        seeds: Vec<u64>,
    },
}

fn default_seeds() -> Vec<u64> {
    vec![1, 2, 3, 4, 5]
}

fn default_test_fraction() -> f64 {
    0.2
}

fn default_validation_fraction() -> f64 {
    0.1
}

fn default_corpus() -> CorpusKind {
    CorpusKind::Tess
}

/// A parsed experiment file; paths in it are already resolved against its folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Title of the report.
    pub name: String,
    #[serde(default = "default_corpus")]
    pub corpus: CorpusKind,
    /// Corpus folder or manifest; `None` means the corpus' usual place in the data folder.
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// Several corpora trained on together (instead of `corpus`/`data`).
    #[serde(default)]
    pub corpora: Vec<CorpusSource>,
    pub protocol: Protocol,
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
    /// Whether a model with speaker normalisation hears each test speaker's clips together
    /// (`together`, the default) or every clip alone (`alone`).
    #[serde(default)]
    pub test_clips: crate::TestSpeakers,
    /// One set of runs per architecture; empty means the run configuration's architecture.
    #[serde(default)]
    pub architectures: Vec<Architecture>,
    /// Run files of models of different recipes (features, model, training), each run as it
    /// is and named by its file stem; instead of `run`, `architectures` and inline sections.
    /// Every model trains on the same splits: the protocol draws them with the first member's
    /// seed, which also seeds the training of runs within the corpus, as for architectures; so
    /// there the members must share one `[training] seed` (an error otherwise, not another seed
    /// in silence). Across corpora every member trains with its own seed.
    #[serde(default)]
    pub members: Vec<PathBuf>,
    /// Also score the ensemble of the models: each test clip's probabilities are the
    /// normalised geometric mean of the models' (the average of their log-probabilities).
    #[serde(default)]
    pub ensemble: bool,
    /// With members, `test_clips = "alone"` and `ensemble`: run files of models that judge in
    /// place of a member in the ensemble, as `ser model ensemble --lone-clip` builds it for a
    /// speaker heard in one clip (e.g. a member's twin without speaker normalisation). Each is
    /// run and reported as a model of its own too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lone_clip: Vec<LoneClipRecipe>,
    /// Base run file; the inline sections below replace its sections.
    #[serde(default)]
    pub run: Option<PathBuf>,
    #[serde(default)]
    pub model: Option<ModelConfig>,
    #[serde(default)]
    pub features: Option<FeatureConfig>,
    #[serde(default)]
    pub training: Option<TrainConfig>,
}

impl ExperimentConfig {
    /// Parses and checks an experiment file; relative paths are taken relative to `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path, origin: &Path) -> Result<Self, ExperimentError> {
        let invalid = |reason: String| ExperimentError::Config {
            path: origin.to_path_buf(),
            reason,
        };
        let mut config: ExperimentConfig =
            toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base_dir.join(&*path);
            }
        };
        config.data.as_mut().map(resolve);
        config.run.as_mut().map(resolve);
        config.members.iter_mut().for_each(resolve);
        for substitute in &mut config.lone_clip {
            resolve(&mut substitute.member);
            resolve(&mut substitute.replaces);
        }
        for source in &mut config.corpora {
            source.resolve_against(base_dir);
        }
        if let Protocol::CrossCorpus {
            test_data: Some(test_data),
            ..
        } = &mut config.protocol
        {
            resolve(test_data);
        }
        config.check().map_err(invalid)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
        let base_dir = path.parent().unwrap_or(Path::new(""));
        Self::from_toml(&text, base_dir, path)
    }

    fn check(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return Err(format!(
                "validation_fraction must be in [0, 1), got {}",
                self.validation_fraction
            ));
        }
        match &self.protocol {
            Protocol::Random {
                seeds,
                test_fraction,
            } => {
                if seeds.is_empty() {
                    return Err("protocol.seeds must list at least one seed".into());
                }
                if !(*test_fraction > 0.0 && *test_fraction < 1.0) {
                    return Err(format!(
                        "protocol.test_fraction must be in (0, 1), got {test_fraction}"
                    ));
                }
            }
            Protocol::Kfold { k } if *k < 2 => {
                return Err(format!("protocol.k must be at least 2, got {k}"));
            }
            Protocol::SpeakerFolds { folds, .. }
                if folds.is_empty() || folds.iter().any(Vec::is_empty) =>
            {
                return Err(
                    "protocol.folds must list at least one non-empty group of speakers".into(),
                );
            }
            _ => {}
        }
        if !self.corpora.is_empty() && self.data.is_some() {
            return Err("give either corpus/data or corpora, not both".into());
        }
        if !self.members.is_empty() {
            let alongside = [
                ("run", self.run.is_some()),
                ("architectures", !self.architectures.is_empty()),
                ("[model]", self.model.is_some()),
                ("[features]", self.features.is_some()),
                ("[training]", self.training.is_some()),
            ];
            if let Some((name, _)) = alongside.iter().find(|(_, given)| *given) {
                return Err(format!(
                    "members are run files used as they are: {name} cannot go with them"
                ));
            }
        }
        self.check_lone_clip()
    }

    fn check_lone_clip(&self) -> Result<(), String> {
        if self.lone_clip.is_empty() {
            return Ok(());
        }
        if self.members.is_empty()
            || !self.ensemble
            || self.test_clips != crate::TestSpeakers::Alone
        {
            return Err(
                "lone_clip substitutes judge the clips of an ensemble of members heard \
                        alone: they need members, ensemble = true and test_clips = \"alone\""
                    .into(),
            );
        }
        let mut replaced = Vec::new();
        for substitute in &self.lone_clip {
            let show = |path: &Path| path.display().to_string();
            if !self.members.contains(&substitute.replaces) {
                return Err(format!(
                    "lone_clip: {} replaces {}, which is not one of the members",
                    show(&substitute.member),
                    show(&substitute.replaces)
                ));
            }
            if self.members.contains(&substitute.member) || replaced.contains(&&substitute.replaces)
            {
                return Err(format!(
                    "lone_clip: {} in place of {}: a model has two roles",
                    show(&substitute.member),
                    show(&substitute.replaces)
                ));
            }
            replaced.push(&substitute.replaces);
        }
        Ok(())
    }

    /// The names of the ensemble's models (see [`Self::models`]): the members, each replaced
    /// by its lone-clip substitute if it has one.
    pub fn ensemble_names(&self, models: &[ModelRecipe]) -> Vec<String> {
        let substitutes: Vec<(String, String)> = self
            .lone_clip
            .iter()
            .map(|s| (member_name(&s.replaces), member_name(&s.member)))
            .collect();
        models
            .iter()
            .map(|model| model.name.clone())
            .filter(|name| !substitutes.iter().any(|(_, member)| member == name))
            .map(|name| {
                substitutes
                    .iter()
                    .find(|(replaces, _)| *replaces == name)
                    .map_or(name, |(_, member)| member.clone())
            })
            .collect()
    }

    /// The corpora to read: `corpora`, or the single `corpus`/`data`.
    pub fn sources(&self) -> Vec<CorpusSource> {
        if self.corpora.is_empty() {
            vec![CorpusSource::new(self.corpus, self.data.clone())]
        } else {
            self.corpora.clone()
        }
    }

    /// The run configuration: the run file (or defaults) with the inline sections applied.
    pub fn run_config(&self) -> Result<RunConfig, ExperimentError> {
        let mut run = match &self.run {
            Some(path) => RunConfig::load(path)?,
            None => RunConfig::default(),
        };
        if let Some(model) = &self.model {
            run.model = model.clone();
        }
        if let Some(features) = &self.features {
            run.features = features.clone();
        }
        if let Some(training) = &self.training {
            run.training = training.clone();
        }
        run.model.validate()?;
        run.training.validate()?;
        Ok(run)
    }

    /// The architectures to run, in order.
    pub fn architectures(&self, run: &RunConfig) -> Vec<Architecture> {
        if self.architectures.is_empty() {
            vec![run.model.architecture]
        } else {
            self.architectures.clone()
        }
    }

    /// The models to run, in order: the members, or the run configuration once per
    /// architecture (`architectures` replaces the experiment's when not empty).
    pub fn models(
        &self,
        architectures: &[Architecture],
    ) -> Result<Vec<ModelRecipe>, ExperimentError> {
        if self.members.is_empty() {
            let run = self.run_config()?;
            let architectures = if architectures.is_empty() {
                self.architectures(&run)
            } else {
                architectures.to_vec()
            };
            if let Some(twice) = architectures
                .iter()
                .enumerate()
                .find(|(index, architecture)| architectures[..*index].contains(architecture))
                .map(|(_, architecture)| architecture)
            {
                return Err(ExperimentError::InvalidInput(format!(
                    "architecture {twice} is listed twice"
                )));
            }
            return Ok(architectures
                .into_iter()
                .map(|architecture| {
                    let mut run = run.clone();
                    run.model.architecture = architecture;
                    ModelRecipe {
                        name: architecture.as_str().to_string(),
                        run,
                    }
                })
                .collect());
        }
        if !architectures.is_empty() {
            return Err(ExperimentError::InvalidInput(
                "the experiment's models are its members: other architectures cannot replace them"
                    .into(),
            ));
        }
        let mut models: Vec<ModelRecipe> = Vec::with_capacity(self.members.len());
        let substitutes = self.lone_clip.iter().map(|substitute| &substitute.member);
        for path in self.members.iter().chain(substitutes) {
            let name = member_name(path);
            if models.iter().any(|model| model.name == name) {
                return Err(ExperimentError::InvalidInput(format!(
                    "two members are named {name:?} (by their file stems): rename one"
                )));
            }
            let run = RunConfig::load(path)?;
            models.push(ModelRecipe { name, run });
        }
        let within_corpus = !matches!(self.protocol, Protocol::CrossCorpus { .. });
        if let (true, [first, others @ ..]) = (within_corpus, models.as_slice())
            && let Some(other) = others
                .iter()
                .find(|model| model.run.training.seed != first.run.training.seed)
        {
            return Err(ExperimentError::InvalidInput(format!(
                "member {:?} has [training] seed {}, {:?} seed {}: within a corpus every member \
                 trains with the first member's seed, which draws the splits; give the members \
                 one seed, or run one experiment per seed",
                other.name, other.run.training.seed, first.name, first.run.training.seed
            )));
        }
        Ok(models)
    }
}

/// A member's name in the experiment (and its output folder): its run file's stem.
fn member_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A run file judging in place of a member for a clip heard alone (`lone_clip`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoneClipRecipe {
    /// The substitute's run file.
    pub member: PathBuf,
    /// The member it replaces (one of `members`).
    pub replaces: PathBuf,
}

/// One model of an experiment: its name (the architecture, or the member's file stem; also
/// its folder in the output) and its run configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecipe {
    pub name: String,
    pub run: RunConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExperimentConfig, ExperimentError> {
        ExperimentConfig::from_toml(text, Path::new("/experiments"), Path::new("exp.toml"))
    }

    #[test]
    fn reads_every_protocol_and_resolves_paths() {
        let random = parse("name = \"r\"\n[protocol]\nkind = \"random\"\n").unwrap();
        assert_eq!(
            random.protocol,
            Protocol::Random {
                seeds: vec![1, 2, 3, 4, 5],
                test_fraction: 0.2
            }
        );
        let speaker = parse(
            "name = \"s\"\ndata = \"tess\"\n[protocol]\nkind = \"speaker\"\ntest_speakers = [\"YAF\"]\n",
        )
        .unwrap();
        assert_eq!(speaker.data, Some(PathBuf::from("/experiments/tess")));
        assert_eq!(
            speaker.protocol,
            Protocol::Speaker {
                test_speakers: vec!["YAF".into()],
                seeds: Vec::new(),
            }
        );
        let kfold = parse("name = \"k\"\narchitectures = [\"mlp\", \"cnn1d\"]\n[protocol]\nkind = \"kfold\"\nk = 5\n").unwrap();
        assert_eq!(kfold.protocol, Protocol::Kfold { k: 5 });
        assert_eq!(
            kfold.architectures,
            vec![Architecture::Mlp, Architecture::Cnn1d]
        );
        let cross = parse(
            "name = \"c\"\n[protocol]\nkind = \"cross_corpus\"\ntest_corpus = \"ravdess\"\ntest_data = \"/data/ravdess\"\n",
        )
        .unwrap();
        assert_eq!(
            cross.protocol,
            Protocol::CrossCorpus {
                test_corpus: CorpusKind::Ravdess,
                test_data: Some(PathBuf::from("/data/ravdess")),
                seeds: Vec::new(),
            }
        );
        let seeded = parse(
            "name = \"c\"\n[protocol]\nkind = \"cross_corpus\"\ntest_corpus = \"tess\"\nseeds = [42, 43]\n",
        )
        .unwrap();
        assert!(
            matches!(&seeded.protocol, Protocol::CrossCorpus { seeds, .. } if seeds == &[42, 43])
        );
        let multi = parse(
            "name = \"m\"\ncorpora = [{ kind = \"tess\" }, { kind = \"ravdess\", data = \"rav\" }]\n[protocol]\nkind = \"speaker_folds\"\nfolds = [[\"Actor_01\", \"Actor_02\"], [\"Actor_03\"]]\n",
        )
        .unwrap();
        assert_eq!(
            multi.sources(),
            vec![
                CorpusSource::new(CorpusKind::Tess, None),
                CorpusSource::new(CorpusKind::Ravdess, Some(PathBuf::from("/experiments/rav")))
            ]
        );
        assert_eq!(
            multi.protocol,
            Protocol::SpeakerFolds {
                folds: vec![
                    vec!["Actor_01".into(), "Actor_02".into()],
                    vec!["Actor_03".into()]
                ],
                seeds: Vec::new(),
            }
        );
        let seeded_folds = parse(
            "name = \"f\"\n[protocol]\nkind = \"speaker_folds\"\nfolds = [[\"Actor_01\"]]\nseeds = [42, 43, 44]\n",
        )
        .unwrap();
        assert!(
            matches!(&seeded_folds.protocol, Protocol::SpeakerFolds { seeds, .. } if seeds == &[42, 43, 44])
        );
    }

    #[test]
    fn inline_sections_replace_the_defaults() {
        let config = parse(
            "name = \"x\"\n[protocol]\nkind = \"kfold\"\nk = 3\n[model]\narchitecture = \"mlp\"\n[training]\nepochs = 2\n",
        )
        .unwrap();
        let run = config.run_config().unwrap();
        assert_eq!(run.model.architecture, Architecture::Mlp);
        assert_eq!(run.training.epochs, 2);
        assert_eq!(config.architectures(&run), vec![Architecture::Mlp]);
        let names = |models: Vec<ModelRecipe>| -> Vec<String> {
            models.into_iter().map(|model| model.name).collect()
        };
        assert_eq!(names(config.models(&[]).unwrap()), ["mlp"]);
        let error = config
            .models(&[Architecture::Mlp, Architecture::Cnn1d, Architecture::Mlp])
            .unwrap_err();
        assert!(error.to_string().contains("mlp is listed twice"), "{error}");
        let replaced = config
            .models(&[Architecture::Cnn1d, Architecture::Mlp])
            .unwrap();
        assert_eq!(replaced[0].run.model.architecture, Architecture::Cnn1d);
        assert_eq!(replaced[0].run.training.epochs, 2);
        assert_eq!(names(replaced), ["cnn1d", "mlp"]);
    }

    /// An experiment file in `dir` with `members` (a TOML list) and `protocol` (its fields).
    fn with_members(dir: &Path, members: &str, protocol: &str) -> ExperimentConfig {
        let text = format!("name = \"m\"\nmembers = {members}\n[protocol]\n{protocol}\n");
        ExperimentConfig::from_toml(&text, dir, Path::new("m.toml")).unwrap()
    }

    #[test]
    fn members_are_run_files_named_by_their_stems() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.toml"),
            "[model]\narchitecture = \"mlp\"\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("other")).unwrap();
        std::fs::write(
            dir.path().join("other/a.toml"),
            "[model]\narchitecture = \"cnn1d\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            "[model]\narchitecture = \"cnn1d\"\n",
        )
        .unwrap();
        let load = |members: &str| with_members(dir.path(), members, "kind = \"kfold\"\nk = 2");
        let config = load("[\"a.toml\", \"b.toml\"]");
        assert_eq!(config.members[0], dir.path().join("a.toml"));
        let models = config.models(&[]).unwrap();
        assert_eq!(models[0].name, "a");
        assert_eq!(models[1].name, "b");
        assert_eq!(models[1].run.model.architecture, Architecture::Cnn1d);
        let error = load("[\"a.toml\", \"other/a.toml\"]")
            .models(&[])
            .unwrap_err();
        assert!(
            error.to_string().contains("two members are named \"a\""),
            "{error}"
        );
        let error = load("[\"a.toml\", \"missing.toml\"]")
            .models(&[])
            .unwrap_err();
        assert!(error.to_string().contains("missing.toml"), "{error}");
    }

    #[test]
    fn lone_clip_substitutes_take_their_members_place_in_the_ensemble_of_clips_alone() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b", "a1"] {
            std::fs::write(dir.path().join(format!("{name}.toml")), "").unwrap();
        }
        let load = |head: &str, substitutes: &str| {
            let text = format!(
                "name = \"m\"\nmembers = [\"a.toml\", \"b.toml\"]\n{head}\nlone_clip = \
                 [{substitutes}]\n[protocol]\nkind = \"kfold\"\nk = 2\n"
            );
            ExperimentConfig::from_toml(&text, dir.path(), Path::new("m.toml"))
        };
        let alone = "ensemble = true\ntest_clips = \"alone\"";
        let config = load(alone, "{ member = \"a1.toml\", replaces = \"a.toml\" }").unwrap();
        let models = config.models(&[]).unwrap();
        let names: Vec<&str> = models.iter().map(|model| model.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "a1"], "every model runs");
        assert_eq!(config.ensemble_names(&models), ["a1", "b"]);
        // Without substitutes the ensemble is every model.
        let plain = load(alone, "").unwrap();
        assert_eq!(
            plain.ensemble_names(&plain.models(&[]).unwrap()),
            ["a", "b"]
        );

        let error =
            |head: &str, substitutes: &str| load(head, substitutes).unwrap_err().to_string();
        let a1_for_a = "{ member = \"a1.toml\", replaces = \"a.toml\" }";
        assert!(error("ensemble = true", a1_for_a).contains("test_clips = \"alone\""));
        assert!(error("test_clips = \"alone\"", a1_for_a).contains("ensemble = true"));
        assert!(
            error(alone, "{ member = \"a1.toml\", replaces = \"c.toml\" }")
                .contains("not one of the members")
        );
        assert!(
            error(alone, "{ member = \"b.toml\", replaces = \"a.toml\" }").contains("two roles")
        );
        let twice = format!("{a1_for_a}, {{ member = \"b.toml\", replaces = \"a.toml\" }}");
        assert!(error(alone, &twice).contains("two roles"));
    }

    #[test]
    fn members_of_other_seeds_are_refused_within_a_corpus_and_kept_across() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "[training]\nseed = 42\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "[training]\nseed = 43\n").unwrap();
        let load = |protocol: &str| with_members(dir.path(), "[\"a.toml\", \"b.toml\"]", protocol);
        let error = load("kind = \"kfold\"\nk = 2").models(&[]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("member \"b\" has [training] seed 43, \"a\" seed 42"),
            "{error}"
        );
        let models = load("kind = \"cross_corpus\"\ntest_corpus = \"ravdess\"")
            .models(&[])
            .unwrap();
        let seeds: Vec<u64> = models.iter().map(|model| model.run.training.seed).collect();
        assert_eq!(seeds, [42, 43]);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let cases = [
            ("name = \"x\"\n", "protocol"),
            (
                "name = \"x\"\n[protocol]\nkind = \"bootstrap\"\n",
                "bootstrap",
            ),
            (
                "name = \"x\"\n[protocol]\nkind = \"kfold\"\nk = 1\n",
                "protocol.k",
            ),
            (
                "name = \"x\"\n[protocol]\nkind = \"random\"\nseeds = []\n",
                "seeds",
            ),
            (
                "name = \"x\"\n[protocol]\nkind = \"random\"\ntest_fraction = 1.5\n",
                "test_fraction",
            ),
            (
                "name = \"x\"\nepochs = 3\n[protocol]\nkind = \"kfold\"\nk = 3\n",
                "epochs",
            ),
            (
                "name = \"x\"\narchitectures = [\"resnet\"]\n[protocol]\nkind = \"kfold\"\nk = 3\n",
                "resnet",
            ),
            (
                "name = \"x\"\ndata = \"a\"\ncorpora = [{ kind = \"tess\" }]\n[protocol]\nkind = \"kfold\"\nk = 3\n",
                "not both",
            ),
            (
                "name = \"x\"\n[protocol]\nkind = \"speaker_folds\"\nfolds = [[]]\n",
                "protocol.folds",
            ),
            (
                "name = \"x\"\nvalidation_fraction = 1.0\n[protocol]\nkind = \"kfold\"\nk = 3\n",
                "validation_fraction",
            ),
        ];
        for (text, expected) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.starts_with("exp.toml: "), "{message}");
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
        }
    }
}
