//! `nodecheck fix`: bring the host to its profile, Ansible-style. Failing and warning checks become a
//! typed [`plan::Plan`] (each change tied to the check IDs it fixes) built purely by [`planners`] from
//! the facts, the profile, the peers and the configuration files [`state`] reads; [`render`] shows it
//! (with unified diffs); [`apply`] makes it atomically ([`atomic`]) after recording a [`manifest`], with
//! live changes in [`live`]; [`rollback`] restores exactly what a run recorded.

pub mod apply;
pub mod atomic;
pub mod confine;
pub mod live;
pub mod lock;
pub mod manifest;
pub mod plan;
pub mod planners;
pub mod render;
pub mod rollback;
pub mod state;
