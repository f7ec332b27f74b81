//! Data sources for the Reformer: the paper's duplication task, enwik8 and byte corpora.
//!
//! The sources arrive with the training issue.
