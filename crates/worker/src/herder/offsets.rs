//! Topics and committed offsets of a connector (`/connectors/{c}/topics`, `/offsets`).

use super::{Herder, HerderError, Result};
use cassink_config::{parse_list, ConfigMap};
use cassink_kafka::offsets::{OffsetChange, PartitionOffset, TopicSelector};
use cassink_store::TargetState;

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
    /// `GET /connectors/{c}/topics`: the connector's active topics as Connect reports them,
    /// the topics it has consumed records from (offsets committed in its group past the last
    /// `topics/reset`), sorted.
    pub async fn topics(&self, name: &str) -> Result<Vec<String>> {
        let (config, baseline) = {
            let map = self.connectors.lock().await;
            let c = map
                .get(name)
                .ok_or_else(|| HerderError::NotFound(name.into()))?;
            (c.config.clone(), c.topics_baseline.clone())
        };
        let committed = self
            .offsets
            .committed(&group_id(name), selector(&config))
            .await?;
        let mut topics: Vec<String> = committed
            .into_iter()
            .filter(|p| {
                let since = baseline.get(&(p.topic.clone(), p.partition)).copied();
                p.offset > since.unwrap_or(0)
            })
            .map(|p| p.topic)
            .collect();
        topics.sort();
        topics.dedup();
        Ok(topics)
    }

    /// `PUT /connectors/{c}/topics/reset`: forgets the active topics (as of the offsets now
    /// committed).
    pub async fn reset_topics(&self, name: &str) -> Result<()> {
        let config = self.config(name).await?;
        let committed = self
            .offsets
            .committed(&group_id(name), selector(&config))
            .await?;
        let mut map = self.connectors.lock().await;
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(name.into()))?;
        c.topics_baseline = committed
            .into_iter()
            .map(|p| ((p.topic, p.partition), p.offset))
            .collect();
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
