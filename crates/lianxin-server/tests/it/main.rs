//! The one integration-test binary: every test boots the real server on a random port with
//! a fresh database and talks HTTP to it.
#![allow(clippy::unwrap_used, dead_code, unused_imports)]

#[macro_use]
mod kit;
mod browser;
mod browser_admin;
mod browser_lists;
mod browser_search;
mod browser_stats;
mod calendar;
mod city;
mod concurrency;
mod crash;
mod edge;
mod hotspots;
mod incidents;
mod knowledge;
mod kpis;
mod lifecycle;
mod lists;
mod memory;
mod openapi;
mod postgres;
mod problems;
mod refusals;
mod reports;
mod scope;
mod search;
mod setup;
mod signin;
mod smoke;
mod supervision;
mod transport;
mod verify;
