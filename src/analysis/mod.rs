//! What sitrep works out from the model: the merged timeline, unit and socket state over time.

pub mod appserver;
pub mod checklist;
pub mod knowledge;
pub mod query;
pub mod rules;
pub mod scan;
pub mod skew;
pub mod state;
pub mod timeline;

/// Everything the console and `diagnose` show: the findings and the checklist, from one pass.
#[derive(Debug, Default)]
pub struct Analysis {
    pub diagnosis: rules::Diagnosis,
    pub checklist: checklist::Checklist,
}

/// Run the rules, then walk every runbook of `library` against the same evidence.
pub fn analyse(incident: &crate::model::Incident, library: checklist::Library) -> Analysis {
    analyse_counted(
        incident,
        library,
        &std::sync::atomic::AtomicUsize::new(0),
        rules::Built::default(),
    )
}

/// [`analyse`], counting in `rules_done` the rules that have finished, for a progress display;
/// what `built` holds (the console's merged timeline, units and sockets) is read, not built.
pub fn analyse_counted(
    incident: &crate::model::Incident,
    library: checklist::Library,
    rules_done: &std::sync::atomic::AtomicUsize,
    built: rules::Built,
) -> Analysis {
    let cx = rules::Context::looking_for(incident, library.lookouts(), built);
    let diagnosis = rules::diagnose_counted(&cx, rules_done);
    let checklist = checklist::Checklist::evaluate(&cx, &diagnosis, library);
    Analysis {
        diagnosis,
        checklist,
    }
}
