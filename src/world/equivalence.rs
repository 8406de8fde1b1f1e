//! The indexed queries against the full scans they replaced (kept here as the reference), on
//! random worlds: random partitions, creation instants, lifecycles (zero durations, read-bounded
//! phases, several phases of one status), queries and instants. Each side runs on its own copy
//! of the world, built the same way, so read counters move alike when the answers agree.


use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::ecs::{self, EcsQuery, EcsStatus, EcsTask};
use super::hss_image::{self, HssImageTask, ImageTaskQuery, ImageTaskStatus};
use super::hss_task::{self, HssTask, HssTaskStatus, TaskKind, TaskQuery};
use super::lifecycle::{Lifecycle, Phase, PhaseEnd, Status};
use super::{Owner, Page, Shared, Store, Term, Text};
use crate::instant::Millis;

fn lifecycle<S: Status>(rng: &mut StdRng) -> Lifecycle<S> {
    let n = rng.random_range(1..=4);
    let phases = (0..n)
        .map(|_| {
            let status = S::all()[rng.random_range(0..S::all().len())];
            let end = match rng.random_range(0..10) {
                0 => PhaseEnd::Reads(rng.random_range(1..3)),
                1 => PhaseEnd::After(0),
                _ => PhaseEnd::After(rng.random_range(1..60)),
            };
            Phase { status, end }
        })
        .collect();
    Lifecycle::new(phases)
}

fn ecs_world(seed: u64) -> Store<EcsTask> {
    ecs_world_of(seed, |rng| rng.random_range(0..120), 100, lifecycle)
}

/// A world of `size(rng)` ECS tasks created in `[0, created)`, with lifecycles from `life`.
fn ecs_world_of(seed: u64, size: impl Fn(&mut StdRng) -> usize, created: Millis, life: impl Fn(&mut StdRng) -> Lifecycle<EcsStatus>) -> Store<EcsTask> {
    let mut rng = StdRng::seed_from_u64(seed);
    let regions: Vec<Shared> = vec!["r1".into(), "r2".into()];
    let owners = [Owner(None), Owner(Some("k1".into())), Owner(Some("k2".into()))];
    let n = size(&mut rng);
    let tasks = (0..n)
        .map(|i| EcsTask {
            id: Text::from(format!("t-{:03}", rng.random_range(0..1000) * 10_000 + i)),
            region: regions[rng.random_range(0..2)].clone(),
            owner: owners[rng.random_range(0..3)].clone(),
            action: Term::known(ecs::ACTIONS[rng.random_range(0..3)]),
            resource_id: (rng.random_range(0..3) > 0).then(|| Text::from(format!("m-{}", rng.random_range(0..6)))),
            created: rng.random_range(0..created),
            lifecycle: life(&mut rng),
            support_cancel: None,
            pins: None,
        })
        .collect();
    Store::from_tasks(tasks)
}

/// DescribeTasks as it was: a filter over every task.
fn ecs_reference<'a>(tasks: &'a Store<EcsTask>, query: &EcsQuery, caller: &Owner, now: Millis) -> Page<ecs::EcsView<'a>> {
    let candidates: Box<dyn Iterator<Item = &EcsTask>> = match &query.task_ids {
        Some(ids) => Box::new(tasks.by_ids(ids)),
        None => Box::new(tasks.iter()),
    };
    let matching = candidates.filter(|task| {
        *task.region == *query.region
            && task.owner.visible_to(caller)
            && task.created <= now
            && query.action.as_deref().is_none_or(|a| a == task.action.name())
            && query.resource_ids.as_ref().is_none_or(|ids| task.resource_id.as_deref().is_some_and(|r| ids.iter().any(|id| id == r)))
            && query.created_from.is_none_or(|from| task.created >= from)
            && query.created_to.is_none_or(|to| task.created <= to)
    });
    let matching = matching.filter(|task| query.status.is_none_or(|s| s == task.lifecycle.at(task.created, now).status));
    Page::collect(matching, query.page_number, query.page_size, |task| task.view(task.lifecycle.read(task.created, now)))
}

fn option<T>(rng: &mut StdRng, one_in: u32, value: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    (rng.random_range(0..one_in) == 0).then(|| value(rng))
}

#[test]
fn ecs_describe_agrees_with_the_full_scan() {
    for seed in 0..300 {
        let (indexed, scanned) = (ecs_world(seed), ecs_world(seed));
        let mut rng = StdRng::seed_from_u64(seed ^ 0xabcdef);
        for _ in 0..40 {
            let query = EcsQuery {
                region: ["r1", "r2", "r3"][rng.random_range(0..3)],
                task_ids: option(&mut rng, 8, |r| (0..r.random_range(0..5)).map(|_| format!("t-{:03}", r.random_range(0..120))).collect()),
                action: option(&mut rng, 4, |r| ecs::ACTIONS[r.random_range(0..3)].to_string()),
                resource_ids: option(&mut rng, 4, |r| (0..r.random_range(0..3)).map(|_| format!("m-{}", r.random_range(0..6))).collect()),
                status: option(&mut rng, 2, |r| EcsStatus::all()[r.random_range(0..6)]),
                created_from: option(&mut rng, 5, |r| r.random_range(0..100)),
                created_to: option(&mut rng, 5, |r| r.random_range(0..160)),
                page_number: rng.random_range(1..6),
                page_size: rng.random_range(1..12),
            };
            let caller = [Owner(None), Owner(Some("k1".into())), Owner(Some("k3".into()))][rng.random_range(0..3)].clone();
            let now = rng.random_range(0..200);
            let got = ecs::describe(&indexed, &query, &caller, now);
            let want = ecs_reference(&scanned, &query, &caller, now);
            let ids = |p: &Page<ecs::EcsView>| p.items.iter().map(|v| (v.task.id.to_string(), v.stage.status)).collect::<Vec<_>>();
            assert_eq!((got.total, ids(&got)), (want.total, ids(&want)), "seed {seed}, {query:?}, caller {caller:?}, now {now}");
        }
    }
}

/// A lifecycle the product's transition table allows, over phases of up to `span`: from a
/// non-terminal status, on through successors (a status over several phases, zero-length phases),
/// mostly into one of the terminal statuses (sometimes over two phases of it), sometimes stopping
/// in a non-terminal one; with `reads`, one phase in twenty ends after reads.
fn table_lifecycle<S: Status>(rng: &mut StdRng, span: Millis, reads: bool) -> Lifecycle<S> {
    let starts: Vec<S> = S::all().iter().copied().filter(|s| !s.terminal()).collect();
    let mut status = starts[rng.random_range(0..starts.len())];
    let mut phases = Vec::new();
    loop {
        let end = match rng.random_range(0..20) {
            0 if reads => PhaseEnd::Reads(rng.random_range(1..3)),
            1 | 2 => PhaseEnd::After(0),
            _ => PhaseEnd::After(rng.random_range(1..span)),
        };
        phases.push(Phase { status, end });
        let stop = if status.terminal() { rng.random_range(0..4) > 0 } else { rng.random_range(0..10) == 0 };
        if stop || phases.len() == 6 {
            return Lifecycle::new(phases);
        }
        let next = status.successors();
        if !next.is_empty() && rng.random_range(0..4) > 0 {
            status = next[rng.random_range(0..next.len())];
        }
    }
}

/// Status-filtered pages (every status, every page and one past the end, both partitions of a
/// region merged) against the scan, at random instants, on worlds whose lifecycles follow the
/// transition table: Finished and Failed settle in most partitions, so the walk skips by the
/// settled index (blocks, and groups of blocks in the big worlds); some worlds have read-bounded
/// tasks (a side list: the plain walk). Each page's reads are made on the scanned copy too.
#[test]
fn ecs_status_pages_agree_with_the_full_scan() {
    let (mut settled, mut filtered) = (0, 0);
    for seed in 0..48 {
        let big = seed % 8 == 0;
        let reads = seed % 3 == 1;
        let life = |rng: &mut StdRng| table_lifecycle::<EcsStatus>(rng, 2000, reads);
        let size = |rng: &mut StdRng| if big { 6000 } else { rng.random_range(0..400) };
        let (indexed, scanned) = (ecs_world_of(seed, size, 10_000, life), ecs_world_of(seed, size, 10_000, life));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5e77);
        for _ in 0..3 {
            // Half the time, the instant a task enters its last phase.
            let entered = scanned.iter().nth(rng.random_range(0..scanned.len().max(1))).and_then(|t| t.lifecycle.last_phase_starts(t.created));
            let now = entered.filter(|_| rng.random_range(0..2) == 0).unwrap_or_else(|| rng.random_range(0..14_000));
            let region = ["r1", "r2"][rng.random_range(0..2)];
            let caller = [Owner(None), Owner(Some("k1".into()))][rng.random_range(0..2)].clone();
            for &status in EcsStatus::all() {
                let matching = || -> Vec<(String, EcsStatus)> {
                    scanned
                        .iter()
                        .filter(|t| *t.region == *region && t.owner.visible_to(&caller) && t.created <= now)
                        .map(|t| (t.id.to_string(), t.lifecycle.at(t.created, now).status))
                        .filter(|&(_, s)| s == status)
                        .collect()
                };
                let mut want = matching();
                let page_size = if big { rng.random_range(10..101) } else { rng.random_range(1..12) };
                filtered += usize::from(status.filterable());
                settled += usize::from(status.filterable() && indexed.settles(&[Some(region), None, None], usize::from(status == EcsStatus::Failed) + 1));
                for page_number in 1..=want.len() / page_size + 2 {
                    if reads {
                        // A page's reads may end read-bounded phases: the next page sees that.
                        want = matching();
                    }
                    let query = EcsQuery { region, status: Some(status), page_number, page_size, ..EcsQuery::default() };
                    let got = ecs::describe(&indexed, &query, &caller, now);
                    let page: Vec<(String, EcsStatus)> = want.iter().skip((page_number - 1) * page_size).take(page_size).cloned().collect();
                    let ids: Vec<(String, EcsStatus)> = got.items.iter().map(|v| (v.task.id.to_string(), v.stage.status)).collect();
                    assert_eq!((got.total, &ids), (want.len(), &page), "seed {seed}, {query:?}, caller {caller:?}, now {now}");
                    for (id, _) in &page {
                        if let Some(t) = scanned.get(id) {
                            t.lifecycle.read(t.created, now);
                        }
                    }
                }
            }
        }
    }
    assert!(settled * 2 > filtered, "the settled index answered {settled} of {filtered} filtered walks");
}

/// HSS ListTasks and ListImageScanTask status pages (both directions for tasks) against the
/// scans, on worlds whose lifecycles follow the transition tables (so Finished, and an image
/// task's end, settle), some big, some with read-bounded tasks.
#[test]
fn hss_status_pages_agree_with_the_full_scan_when_statuses_settle() {
    for seed in 0..40 {
        let big = seed % 8 == 0;
        let reads = seed % 3 == 1;
        let size = |rng: &mut StdRng| if big { 3000 } else { rng.random_range(0..300) };
        let life = |rng: &mut StdRng| table_lifecycle::<HssTaskStatus>(rng, 2000, reads);
        let (tasks, tasks_scanned) = (hss_world_of(seed, size, 10_000, life), hss_world_of(seed, size, 10_000, life));
        let life = |rng: &mut StdRng| table_lifecycle::<ImageTaskStatus>(rng, 2000, reads);
        let (images, images_scanned) = (image_world_of(seed, size, 10_000, life), image_world_of(seed, size, 10_000, life));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x4455);
        for _ in 0..30 {
            let now = rng.random_range(0..14_000);
            let (offset, limit) = (rng.random_range(0..if big { 400 } else { 40 }), rng.random_range(1..30));
            let q = TaskQuery {
                project_id: ["p1", "p2"][rng.random_range(0..2)],
                enterprise_project_id: option(&mut rng, 4, |r| ["0", "e1"][r.random_range(0..2)]),
                status: Some(HssTaskStatus::all()[rng.random_range(0..3)]),
                ascending: rng.random_range(0..2) == 0,
                offset,
                limit,
                ..TaskQuery::default()
            };
            let (got, want) = (hss_task::list(&tasks, &q, now), hss_reference(&tasks_scanned, &q, now));
            let ids = |p: &Page<hss_task::HssTaskView>| p.items.iter().map(|v| (v.task.task_id.to_string(), v.stage.status)).collect::<Vec<_>>();
            assert_eq!((got.total, ids(&got)), (want.total, ids(&want)), "seed {seed}, {q:?}, now {now}");
            let q = ImageTaskQuery {
                project_id: q.project_id,
                enterprise_project_id: q.enterprise_project_id,
                general_type: ["image_scan", "image_sync"][rng.random_range(0..2)],
                status: Some(["scanning", "finished"][rng.random_range(0..2)]),
                offset,
                limit,
                ..ImageTaskQuery::default()
            };
            let (got, want) = (hss_image::list(&images, &q, now), image_reference(&images_scanned, &q, now));
            let ids = |p: &Page<hss_image::ImageTaskView>| p.items.iter().map(|v| (v.task.task_id.to_string(), v.stage.status)).collect::<Vec<_>>();
            assert_eq!((got.total, ids(&got)), (want.total, ids(&want)), "seed {seed}, {q:?}, now {now}");
        }
    }
}

fn hss_world(seed: u64) -> Store<HssTask> {
    hss_world_of(seed, |rng| rng.random_range(0..120), 100, lifecycle)
}

/// A world of `size(rng)` HSS tasks created in `[0, created)`, with lifecycles from `life`.
fn hss_world_of(seed: u64, size: impl Fn(&mut StdRng) -> usize, created: Millis, life: impl Fn(&mut StdRng) -> Lifecycle<HssTaskStatus>) -> Store<HssTask> {
    let mut rng = StdRng::seed_from_u64(seed);
    let projects: Vec<Shared> = vec!["p1".into(), "p2".into()];
    let enterprises: Vec<Shared> = vec!["0".into(), "e1".into()];
    let n = size(&mut rng);
    let tasks = (0..n)
        .map(|i| HssTask {
            task_id: Text::from(format!("h-{:03}", rng.random_range(0..1000) * 10_000 + i)),
            project_id: projects[rng.random_range(0..2)].clone(),
            enterprise_project_id: enterprises[usize::from(rng.random_range(0..5) == 0)].clone(),
            task_name: Text::from(format!("name {}", rng.random_range(0..3))),
            trigger_type: Term::known(["manual", "schedule"][rng.random_range(0..2)]),
            kind: if rng.random_range(0..2) == 0 {
                TaskKind::ClusterScan { scan_types: vec!["cluster_vul".to_string()].into(), clusters: 3, failures: 1 }
            } else {
                TaskKind::IacScan { file_type: Term::known("dockerfile"), files: 4, failures: 0 }
            },
            created: rng.random_range(0..created),
            lifecycle: life(&mut rng),
            pins: None,
        })
        .collect();
    Store::from_tasks(tasks)
}

/// ListTasks as it was.
fn hss_reference<'a>(tasks: &'a Store<HssTask>, q: &TaskQuery, now: Millis) -> Page<hss_task::HssTaskView<'a>> {
    let enterprise = q.enterprise_project_id.unwrap_or("0");
    let keep = |t: &&HssTask| {
        *t.project_id == *q.project_id
            && t.created <= now
            && (enterprise == "all_granted_eps" || *t.enterprise_project_id == *enterprise)
            && q.task_type.is_none_or(|v| v == t.kind.name())
            && q.task_id.is_none_or(|v| v == t.task_id)
            && q.task_name.is_none_or(|v| t.task_name.to_lowercase().contains(&v.to_lowercase()))
            && q.created_from.is_none_or(|from| t.created >= from)
            && q.created_to.is_none_or(|to| t.created <= to)
            && q.trigger_type.is_none_or(|v| v == t.trigger_type.name())
            && q.status.is_none_or(|s| t.lifecycle.at(t.created, now).status == s)
    };
    let view = |t: &'a HssTask| t.view(t.lifecycle.read(t.created, now), now);
    if q.ascending {
        Page::collect_offset(tasks.iter().rev().filter(keep), q.offset, q.limit, view)
    } else {
        Page::collect_offset(tasks.iter().filter(keep), q.offset, q.limit, view)
    }
}

#[test]
fn hss_list_tasks_agrees_with_the_full_scan() {
    for seed in 0..300 {
        let (indexed, scanned) = (hss_world(seed), hss_world(seed));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x123456);
        let ids: Vec<String> = (0..120).map(|i| format!("h-{i:03}")).collect();
        for _ in 0..40 {
            let q = TaskQuery {
                project_id: ["p1", "p2", "p3"][rng.random_range(0..3)],
                enterprise_project_id: option(&mut rng, 4, |r| ["0", "e1", "all_granted_eps"][r.random_range(0..3)]),
                task_type: option(&mut rng, 6, |r| ["cluster_scan", "iac_scan"][r.random_range(0..2)]),
                task_id: option(&mut rng, 10, |r| ids[r.random_range(0..120)].as_str()),
                task_name: option(&mut rng, 8, |r| ["NAME 0", "NAME 1", "NAME 2"][r.random_range(0..3)]),
                created_from: option(&mut rng, 6, |r| r.random_range(0..100)),
                created_to: option(&mut rng, 6, |r| r.random_range(0..160)),
                trigger_type: option(&mut rng, 8, |r| ["manual", "schedule"][r.random_range(0..2)]),
                status: option(&mut rng, 2, |r| HssTaskStatus::all()[r.random_range(0..3)]),
                ascending: rng.random_range(0..2) == 0,
                scan_types: Vec::new(),
                file_type: None,
                offset: rng.random_range(0..40),
                limit: rng.random_range(1..15),
            };
            let now = rng.random_range(0..200);
            let got = hss_task::list(&indexed, &q, now);
            let want = hss_reference(&scanned, &q, now);
            let ids = |p: &Page<hss_task::HssTaskView>| p.items.iter().map(|v| (v.task.task_id.to_string(), v.stage.status)).collect::<Vec<_>>();
            assert_eq!((got.total, ids(&got)), (want.total, ids(&want)), "seed {seed}, {q:?}, now {now}");
        }
    }
}

fn image_world(seed: u64) -> Store<HssImageTask> {
    image_world_of(seed, |rng| rng.random_range(0..120), 100, lifecycle)
}

/// A world of `size(rng)` image tasks created in `[0, created)`, with lifecycles from `life`.
fn image_world_of(seed: u64, size: impl Fn(&mut StdRng) -> usize, created: Millis, life: impl Fn(&mut StdRng) -> Lifecycle<ImageTaskStatus>) -> Store<HssImageTask> {
    let mut rng = StdRng::seed_from_u64(seed);
    let projects: Vec<Shared> = vec!["p1".into(), "p2".into()];
    let enterprises: Vec<Shared> = vec!["0".into(), "e1".into()];
    let n = size(&mut rng);
    let tasks = (0..n)
        .map(|i| HssImageTask {
            task_id: Text::from(format!("i-{:03}", rng.random_range(0..1000) * 10_000 + i)),
            project_id: projects[rng.random_range(0..2)].clone(),
            enterprise_project_id: enterprises[usize::from(rng.random_range(0..5) == 0)].clone(),
            task_name: Text::from(format!("scan {}", rng.random_range(0..3))),
            task_type: Term::known(hss_image::TASK_TYPES[rng.random_range(0..4)]),
            image_type: Term::known("registry"),
            scan_scope: rng.random_range(0..4),
            is_all: true,
            images: 10,
            failures: 1,
            risky: 2,
            failed_images: Box::new([]),
            rare: None,
            created: rng.random_range(0..created),
            lifecycle: life(&mut rng),
            pins: None,
        })
        .collect();
    Store::from_tasks(tasks)
}

/// ListImageScanTask as it was.
fn image_reference<'a>(tasks: &'a Store<HssImageTask>, q: &ImageTaskQuery, now: Millis) -> Page<hss_image::ImageTaskView<'a>> {
    let enterprise = q.enterprise_project_id.unwrap_or("0");
    let candidates: Box<dyn Iterator<Item = &HssImageTask>> = match &q.task_id {
        Some(id) => Box::new(tasks.get(id).into_iter()),
        None => Box::new(tasks.iter()),
    };
    let matching = candidates
        .filter(|t| {
            *t.project_id == *q.project_id
                && t.created <= now
                && (enterprise == "all_granted_eps" || *t.enterprise_project_id == *enterprise)
                && t.general_type() == q.general_type
                && q.task_type.is_none_or(|v| v == t.task_type.name())
                && q.created_from.is_none_or(|from| t.created >= from)
                && q.scan_scope.is_none_or(|scope| if scope == 0 { t.scan_scope == 0 } else { t.scan_scope & scope != 0 })
        })
        .filter(|t| {
            if q.status.is_none() && q.ended_by.is_none() {
                return true;
            }
            let stage = t.lifecycle.at(t.created, now);
            let ended = stage.status.terminal();
            q.status.is_none_or(|s| (s == "finished") == ended) && q.ended_by.is_none_or(|by| stage.ended_at.is_some_and(|at| at <= by))
        });
    Page::collect_offset(matching, q.offset, q.limit, |t| t.view(t.lifecycle.read(t.created, now), now))
}

#[test]
fn hss_list_image_tasks_agrees_with_the_full_scan() {
    for seed in 0..300 {
        let (indexed, scanned) = (image_world(seed), image_world(seed));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x654321);
        let ids: Vec<String> = (0..120).map(|i| format!("i-{i:03}")).collect();
        for _ in 0..40 {
            let q = ImageTaskQuery {
                project_id: ["p1", "p2", "p3"][rng.random_range(0..3)],
                enterprise_project_id: option(&mut rng, 4, |r| ["0", "e1", "all_granted_eps"][r.random_range(0..3)]),
                general_type: ["image_scan", "image_sync"][rng.random_range(0..2)],
                task_type: option(&mut rng, 6, |r| hss_image::TASK_TYPES[r.random_range(0..4)]),
                image_type: None,
                task_name: None,
                task_id: option(&mut rng, 10, |r| ids[r.random_range(0..120)].as_str()),
                created_from: option(&mut rng, 6, |r| r.random_range(0..100)),
                ended_by: option(&mut rng, 8, |r| r.random_range(0..200)),
                status: option(&mut rng, 2, |r| ["scanning", "finished"][r.random_range(0..2)]),
                scan_scope: option(&mut rng, 8, |r| r.random_range(0..4)),
                offset: rng.random_range(0..40),
                limit: rng.random_range(1..15),
            };
            let now = rng.random_range(0..200);
            let got = hss_image::list(&indexed, &q, now);
            let want = image_reference(&scanned, &q, now);
            let ids = |p: &Page<hss_image::ImageTaskView>| p.items.iter().map(|v| (v.task.task_id.to_string(), v.stage.status)).collect::<Vec<_>>();
            assert_eq!((got.total, ids(&got)), (want.total, ids(&want)), "seed {seed}, {q:?}, now {now}");
        }
    }
}

/// The periods a world's periodic scans use, and how far its clock goes: far enough for many
/// sessions, near enough for the reference to list them all.
const AVDS_SCALES: [(super::avds::Period, Millis); 3] = [(super::avds::Period::Minute, 400_000), (super::avds::Period::Hour, 300 * 3_600_000), (super::avds::Period::Month, 40 * 31 * 86_400_000)];

/// Pieces of the random texts: ASCII in both cases, characters that lower-case to more bytes or
/// characters (`İ`), by context (`Σ`) or not at all (`ß`), and separators.
const SYLLABLES: &[&str] = &["ab", "BA", "abc", "web", "Web", "é", "É", "İ", "ß", "ΣA", "x", "ka", ".", " ", "-", "1", "2", "com", "scan"];

/// A random text of a few syllables: many distinct grams, so that the index keeps lists.
fn random_text(rng: &mut StdRng) -> String {
    (0..rng.random_range(0..7)).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect()
}

fn avds_world(seed: u64) -> Store<super::avds::AvdsScan> {
    avds_world_of(seed, |rng, fixed| fixed[rng.random_range(0..fixed.len())].to_string(), 40)
}

/// A world of up to `most` scans whose texts `text(rng, fixed)` draws (`fixed`: a few names or
/// targets to draw from).
fn avds_world_of(seed: u64, text: impl Fn(&mut StdRng, &[&str]) -> String, most: usize) -> Store<super::avds::AvdsScan> {
    use super::avds::{AvdsScan, AvdsStatus, Period, ReportPlan, Trigger};
    let mut rng = StdRng::seed_from_u64(seed);
    let owners = [Owner(None), Owner(Some("k1".into()))];
    let names = ["web perimeter", "DB scan", "Été nightly", "api *gateway*"];
    let targets = ["1.2.3.4", "www.example.com", "10.0.0.1", "İstanbul.example.org"];
    let (period, _) = AVDS_SCALES[seed as usize % AVDS_SCALES.len()];
    // Months start on days that clamp (the 29th to the 31st) as well as on the 1st.
    let unit = if period == Period::Month { 86_400_000 * 14 + 7 } else { 30 };
    let n = rng.random_range(0..most);
    let scans = (0..n)
        .map(|i| AvdsScan {
            scan_id: Text::from(format!("s-{:02}", rng.random_range(0..100) * 100 + i)),
            name: Text::from(text(&mut rng, &names)),
            targets: (0..rng.random_range(0..3)).map(|_| Text::from(text(&mut rng, &targets))).collect(),
            owner: owners[rng.random_range(0..2)].clone(),
            // Few distinct first TaskIds and starts: sessions that tie on both.
            first_task_id: rng.random_range(0..4),
            created: rng.random_range(0..6) * unit,
            trigger: match rng.random_range(0..3) {
                0 => Trigger::Once,
                _ => Trigger::Every { period, interval: rng.random_range(1..4), limit: option(&mut rng, 2, |r| r.random_range(1..500)) },
            },
            // Up to four phases: zero-length ones, a status twice.
            lifecycle: Lifecycle::new(
                (0..rng.random_range(1..5))
                    .map(|_| Phase {
                        status: AvdsStatus::all()[rng.random_range(0..4)],
                        end: PhaseEnd::After(if rng.random_range(0..5) == 0 { 0 } else { rng.random_range(1..unit.max(2) * 90) }),
                    })
                    .collect(),
            ),
            report: ReportPlan { delay: 1000, fails: false, url: "https://r/{ScanId}/{TaskId}".into() },
            pins: None,
        })
        .collect();
    Store::from_tasks(scans)
}

/// DescribeScanSessions as it was: every session listed (its start computed on its own, not
/// from the schedule arithmetic), in store order, a stable sort, the page of it.
fn avds_reference(scans: &Store<super::avds::AvdsScan>, q: &super::avds::AvdsQuery, caller: &Owner, now: Millis) -> Vec<(i64, String, Millis)> {
    let mut sessions = Vec::new();
    for scan in scans.iter() {
        if scan.created > now
            || !scan.owner.visible_to(caller)
            || q.scan_id.as_deref().is_some_and(|id| id != scan.scan_id)
            || q.search.as_deref().is_some_and(|s| !super::avds::search_matches(s, &scan.name) && !scan.targets.iter().any(|t| super::avds::search_matches(s, t)))
        {
            continue;
        }
        for k in 0.. {
            let Some(started) = scans_start(scan, k).filter(|&s| s <= now) else { break };
            if !q.statuses.is_empty() && !q.statuses.contains(&scan.lifecycle.at(started, now).status) {
                continue;
            }
            sessions.push((started, scan.first_task_id + k as i64, scan.scan_id.to_string()));
        }
    }
    sessions.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let total = sessions.len() as i64;
    let skip = (q.page - 1) * q.page_size;
    let mut page: Vec<(i64, String, Millis)> = sessions.into_iter().skip(skip).take(q.page_size).map(|(s, t, id)| (t, id, s)).collect();
    page.push((total, String::new(), 0));
    page
}

fn scans_start(scan: &super::avds::AvdsScan, k: u64) -> Option<Millis> {
    use super::avds::{Period, Trigger};
    use chrono::TimeZone;
    match scan.trigger {
        Trigger::Once => (k == 0).then_some(scan.created),
        Trigger::Every { limit: Some(limit), .. } if k >= u64::from(limit) => None,
        Trigger::Every { period: Period::Month, interval, .. } => {
            let created = chrono::Utc.timestamp_millis_opt(scan.created).single()?;
            Some(created.checked_add_months(chrono::Months::new(k as u32 * interval))?.timestamp_millis())
        }
        Trigger::Every { period, interval, .. } => {
            let length = match period {
                Period::Minute => 60_000,
                Period::Hour => 3_600_000,
                _ => unreachable!("the worlds use minutes, hours and months"),
            };
            Some(scan.created + k as i64 * i64::from(interval) * length)
        }
    }
}

/// Search patterns the AVDS check draws from: wildcards, empty, `*` alone, non-ASCII (İ lower-cases
/// to two characters), upper case, longer than any name or target.
const SEARCHES: &[&str] = &["web", "*.com", "1.*.*.4", "été", "ÉTÉ*", "i̇stanbul*", "*GATEWAY*", "*", "", "**", "*.", "a pattern longer than any name or target in the world", "*e*e*e*e*e*e*e*e*e*e*e*e*"];

#[test]
fn avds_sessions_agree_with_the_stable_sort_of_every_session() {
    use super::avds::{self, AvdsQuery, AvdsStatus};
    for seed in 0..300 {
        let scans = avds_world(seed);
        let (_, horizon) = AVDS_SCALES[seed as usize % AVDS_SCALES.len()];
        let mut rng = StdRng::seed_from_u64(seed ^ 0x777);
        for _ in 0..30 {
            let q = AvdsQuery {
                scan_id: option(&mut rng, 8, |r| format!("s-{:02}", r.random_range(0..40))),
                search: option(&mut rng, 3, |r| SEARCHES[r.random_range(0..SEARCHES.len())].to_string()),
                statuses: (0..rng.random_range(0..3)).map(|_| AvdsStatus::all()[rng.random_range(0..4)]).collect(),
                page: rng.random_range(1..40),
                page_size: rng.random_range(1..8),
            };
            let caller = [Owner(None), Owner(Some("k1".into()))][rng.random_range(0..2)].clone();
            let now = rng.random_range(0..horizon);
            // Deep pages both ways: merged from the newest, and found by the search over time.
            let merge_skip = [0, 3, u64::MAX][rng.random_range(0..3)];
            let skip = (q.page - 1) * q.page_size;
            // With a key, the store's remembered matches (hits and misses alike, the store
            // lives for the seed's 30 queries); without one, the scan.
            let keep_key = (rng.random_range(0..4) > 0).then(|| avds::visible_key(&caller));
            let got = avds::page_with(&scans, &q, |scan| scan.owner.visible_to(&caller), keep_key.as_deref(), skip, q.page_size, now, true, merge_skip);
            let mut ids: Vec<(i64, String, Millis)> = got.items.iter().map(|s| (s.task_id, s.scan.scan_id.to_string(), s.started)).collect();
            ids.push((got.total as i64, String::new(), 0));
            assert_eq!(ids, avds_reference(&scans, &q, &caller, now), "seed {seed}, {q:?}, now {now}, merge_skip {merge_skip}, keep_key {keep_key:?}");
        }
    }
}

/// A pattern drawn from a world's own texts: a piece of one (in either case), with `*` put in or
/// over some characters; a name's end followed by a target's start (a piece across two texts,
/// which must not match); or random syllables, `*`s, empty, longer than any text.
fn random_pattern(rng: &mut StdRng, scans: &Store<super::avds::AvdsScan>) -> String {
    let texts: Vec<String> = scans.iter().flat_map(|s| std::iter::once(s.name.to_string()).chain(s.targets.iter().map(|t| t.to_string()))).collect();
    let piece = |rng: &mut StdRng, text: &str| -> Vec<char> {
        let chars: Vec<char> = text.chars().collect();
        let from = rng.random_range(0..=chars.len());
        chars[from..rng.random_range(from..=chars.len())].to_vec()
    };
    let mut chars: Vec<char> = match rng.random_range(0..6) {
        _ if texts.is_empty() => random_text(rng).chars().collect(),
        0..=2 => {
            let text = &texts[rng.random_range(0..texts.len())];
            piece(rng, text)
        }
        3 => match scans.iter().nth(rng.random_range(0..scans.len())) {
            Some(scan) if !scan.targets.is_empty() => {
                let name: Vec<char> = scan.name.chars().collect();
                let target = scan.targets[rng.random_range(0..scan.targets.len())].chars();
                name[rng.random_range(0..=name.len())..].iter().copied().chain(target.take(rng.random_range(1..4))).collect()
            }
            _ => random_text(rng).chars().collect(),
        },
        4 => random_text(rng).chars().collect(),
        _ => ["", "*", "**", "*a*", "a pattern longer than any name or target in the world"][rng.random_range(0..5)].chars().collect(),
    };
    if rng.random_range(0..2) == 0 {
        chars = chars.iter().flat_map(|c| c.to_uppercase()).collect();
    }
    for _ in 0..rng.random_range(0..3) {
        let at = rng.random_range(0..=chars.len());
        if at < chars.len() && rng.random_range(0..2) == 0 {
            chars[at] = '*';
        } else {
            chars.insert(at, '*');
        }
    }
    chars.into_iter().collect()
}

/// The trigram index answers as the scan does: worlds of up to 200 scans with random texts (many
/// distinct grams, so the index keeps lists and narrows), random patterns from those texts, with
/// the cache (a miss reads the index's candidates, a repeat the remembered list) and without
/// (every request reads the candidates).
#[test]
fn avds_search_by_the_trigram_index_agrees_with_the_scan() {
    use super::avds::{self, AvdsQuery, AvdsStatus};
    let (mut narrowed, mut searches) = (0, 0);
    for seed in 0..60 {
        let scans = avds_world_of(seed, |rng, _| random_text(rng), 200);
        let (_, horizon) = AVDS_SCALES[seed as usize % AVDS_SCALES.len()];
        let mut rng = StdRng::seed_from_u64(seed ^ 0x3a3a);
        for _ in 0..40 {
            let q = AvdsQuery {
                scan_id: None,
                search: Some(random_pattern(&mut rng, &scans)),
                statuses: (0..rng.random_range(0..2)).map(|_| AvdsStatus::all()[rng.random_range(0..4)]).collect(),
                page: rng.random_range(1..4),
                page_size: rng.random_range(1..30),
            };
            let caller = [Owner(None), Owner(Some("k1".into()))][rng.random_range(0..2)].clone();
            let now = rng.random_range(0..horizon);
            let skip = (q.page - 1) * q.page_size;
            let want = avds_reference(&scans, &q, &caller, now);
            let lowered = q.search.as_deref().unwrap_or_default().to_lowercase();
            searches += 1;
            narrowed += usize::from(scans.search_candidates(&lowered.split('*').collect::<Vec<_>>()).is_some_and(|c| c < scans.len()));
            for keep_key in [None, Some(avds::visible_key(&caller))] {
                for _repeat in 0..2 {
                    let got = avds::page_with(&scans, &q, |scan| scan.owner.visible_to(&caller), keep_key.as_deref(), skip, q.page_size, now, false, 3);
                    let mut ids: Vec<(i64, String, Millis)> = got.items.iter().map(|s| (s.task_id, s.scan.scan_id.to_string(), s.started)).collect();
                    ids.push((got.total as i64, String::new(), 0));
                    assert_eq!(ids, want, "seed {seed}, {q:?}, now {now}, keep_key {keep_key:?}");
                }
            }
        }
    }
    assert!(narrowed * 4 > searches, "the index narrowed {narrowed} searches of {searches}");
}
