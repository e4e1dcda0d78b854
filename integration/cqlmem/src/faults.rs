//! Fault injection state shared by the CQL listener and the admin endpoint.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Refuse,
    Drop,
    Unavailable,
    WriteTimeout,
    ReadTimeout,
    Overloaded,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    pub mode: Mode,
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaultStatus {
    pub mode: Option<Mode>,
    pub remaining_ms: Option<u64>,
}

#[derive(Debug)]
pub struct Faults {
    current: Mutex<Option<(Mode, Option<Instant>)>>,
    /// Bumped to make every open connection close.
    drop_tx: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            current: Mutex::new(None),
            drop_tx: watch::channel(0).0,
        }
    }
}

impl Faults {
    pub fn set(&self, req: &FaultRequest) {
        let until = req
            .duration_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((req.mode, until));
        if req.mode == Mode::Drop {
            self.drop_tx.send_modify(|g| *g += 1);
        }
    }

    pub fn clear(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn mode(&self) -> Option<Mode> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match *cur {
            Some((_, Some(until))) if Instant::now() >= until => {
                *cur = None;
                None
            }
            Some((m, _)) => Some(m),
            None => None,
        }
    }

    pub fn status(&self) -> FaultStatus {
        let mode = self.mode();
        let cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let remaining_ms = cur
            .and_then(|(_, u)| u)
            .map(|u| u.saturating_duration_since(Instant::now()).as_millis() as u64);
        FaultStatus { mode, remaining_ms }
    }

    pub fn refuses_connections(&self) -> bool {
        matches!(self.mode(), Some(Mode::Refuse) | Some(Mode::Drop))
    }

    pub fn drop_signal(&self) -> watch::Receiver<u64> {
        self.drop_tx.subscribe()
    }

    /// The error a write gets now, if a write fault is active.
    pub fn write_error(&self) -> Option<Error> {
        match self.mode()? {
            Mode::Unavailable => Some(Error::Unavailable),
            Mode::WriteTimeout => Some(Error::WriteTimeout),
            Mode::Overloaded => Some(Error::Overloaded),
            _ => None,
        }
    }

    pub fn read_error(&self) -> Option<Error> {
        match self.mode()? {
            Mode::ReadTimeout => Some(Error::ReadTimeout),
            _ => None,
        }
    }
}
