//! What sitrep works out from the model: the merged timeline, unit and socket state over time.

pub mod appserver;
pub mod checklist;
pub mod knowledge;
pub mod query;
pub mod rules;
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
    let cx = rules::Context::new(incident);
    let diagnosis = rules::diagnose_in(&cx);
    let checklist = checklist::Checklist::evaluate(&cx, &diagnosis, library);
    Analysis {
        diagnosis,
        checklist,
    }
}
