//! Topics and committed offsets of a connector (`/connectors/{c}/topics`, `/offsets`).

use super::{Herder, HerderError, Result};
use crate::config::{parse_list, ConfigMap};
use crate::kafka::offsets::{OffsetChange, PartitionOffset, TopicSelector};
use crate::store::TargetState;

pub(super) fn group_id(name: &str) -> String {
    format!("connect-{name}")
}

pub(super) fn selector(config: &ConfigMap) -> TopicSelector {
    match config
        .get("topics.regex")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(re) => TopicSelector::Regex(re.to_string()),
        None => TopicSelector::List(
            config
                .get("topics")
                .map(|t| parse_list(t))
                .unwrap_or_default(),
        ),
    }
}

impl Herder {
    /// `GET /connectors/{c}/topics`: the configured topics (for `topics.regex`, the existing
    /// topics that match).
    pub async fn topics(&self, name: &str) -> Result<Vec<String>> {
        let (config, reset) = {
            let map = self.connectors.lock().await;
            let c = map
                .get(name)
                .ok_or_else(|| HerderError::NotFound(name.into()))?;
            (c.config.clone(), c.topics_reset)
        };
        if reset {
            return Ok(Vec::new());
        }
        match selector(&config) {
            TopicSelector::List(topics) => Ok(topics),
            regex => Ok(self.offsets.topics(regex).await?),
        }
    }

    pub async fn reset_topics(&self, name: &str) -> Result<()> {
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        c.topics_reset = true;
        Ok(())
    }

    pub async fn offsets(&self, name: &str) -> Result<Vec<PartitionOffset>> {
        let config = self.config(name).await?;
        Ok(self
            .offsets
            .committed(&group_id(name), selector(&config))
            .await?)
    }

    /// Checks that `name` exists and is STOPPED; holds no lock afterwards.
    async fn stopped_config(&self, name: &str) -> Result<ConfigMap> {
        self.sync()?;
        let map = self.connectors.lock().await;
        let c = map
            .get(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        if c.target != TargetState::Stopped {
            return Err(HerderError::NotStopped(name.into()));
        }
        Ok(c.config.clone())
    }

    pub async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> Result<()> {
        self.stopped_config(name).await?;
        self.offsets.alter(&group_id(name), changes).await?;
        tracing::info!(connector = name, "altered offsets");
        Ok(())
    }

    pub async fn reset_offsets(&self, name: &str) -> Result<()> {
        let config = self.stopped_config(name).await?;
        self.offsets
            .reset(&group_id(name), selector(&config))
            .await?;
        tracing::info!(connector = name, "reset offsets");
        Ok(())
    }
}
