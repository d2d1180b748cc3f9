//! Queue groups on the overview (see [`crate::queue::groups`]): the overview's rows of the
//! queues whose names share a prefix up to the delimiter, gathered under one group row with
//! the sum of each state's count and the group's pause / resume / retry-failed buttons.
//! Done on the rows already read, in memory: grouping costs no Redis round trip.

use super::overview::QueueRow;
use super::{Button, Links, Perms};
use crate::queue::action::Action;
use crate::queue::groups::group_of;

/// One group of queues on the overview.
pub struct GroupRow {
    pub name: String,
    /// Its queues' rows, in the overview's order.
    pub rows: Vec<QueueRow>,
    /// Each state with the sum of its count over the group's queues, in the columns' order.
    pub totals: Vec<(&'static str, u64)>,
    /// How many of its queues are paused.
    pub paused: usize,
    /// Pause, resume and retry-failed of the whole group, as the principal may take them.
    pub buttons: Vec<Button>,
}

/// Split `rows` into the groups of `delimiter` (in the order each group first appears) and the
/// rows of queues in no group.
pub fn group_rows(
    rows: Vec<QueueRow>,
    delimiter: &str,
    links: &Links,
    perms: &Perms,
) -> (Vec<GroupRow>, Vec<QueueRow>) {
    let mut groups: Vec<GroupRow> = Vec::new();
    let mut alone = Vec::new();
    for row in rows {
        let Some(name) = group_of(&row.name, delimiter).map(String::from) else {
            alone.push(row);
            continue;
        };
        let at = match groups.iter().position(|g| g.name == name) {
            Some(at) => at,
            None => {
                groups.push(GroupRow {
                    buttons: buttons(&name, links, perms),
                    name,
                    rows: Vec::new(),
                    totals: row.cells.iter().map(|c| (c.state, 0)).collect(),
                    paused: 0,
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[at];
        for (total, cell) in group.totals.iter_mut().zip(&row.cells) {
            total.1 += cell.count;
        }
        group.paused += usize::from(row.paused);
        group.rows.push(row);
    }
    (groups, alone)
}

/// The group's buttons the principal may use.
fn buttons(group: &str, links: &Links, perms: &Perms) -> Vec<Button> {
    [Action::Pause, Action::Resume, Action::RetryFailed]
        .into_iter()
        .filter(|action| perms.may(*action))
        .map(|action| {
            let url = links.group_action(group, action);
            let question = format!("{} every queue of the group {group}?", action.label());
            let mut button = Button::new(action, url).labelled(format!("{} group", action.label()));
            // Pausing many queues asks first, as pause-all does; resuming does not.
            if action != Action::Resume {
                button.confirm = Some(question);
            }
            button
        })
        .collect()
}
