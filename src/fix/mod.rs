//! `nodecheck fix`: bring the host to its profile, Ansible-style. Failing and warning checks become a
//! typed [`plan::Plan`] (each change tied to the check IDs it fixes) built purely by [`planners`] from
//! the facts, the profile, the peers and the configuration files [`state`] reads; [`render`] shows it
//! (with unified diffs). [`apply`] makes it atomically ([`atomic`]) after recording a [`manifest`],
//! with live changes in [`live`], and [`render_apply`] shows what the run did; [`rollback`] restores
//! exactly what a run recorded, shown with the run history by [`render_runs`]. [`error`] says why a
//! write was refused or failed, and with which exit code.

pub mod apply;
pub mod atomic;
pub mod confine;
pub mod error;
pub mod live;
pub mod lock;
pub mod manifest;
pub mod path_refused;
pub mod plan;
pub mod planners;
pub mod render;
pub mod render_apply;
pub mod render_runs;
pub mod rollback;
pub mod state;
