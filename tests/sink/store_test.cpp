// The store on real SQLite files in a temporary directory: schema migrations, issues and
// their counts, duplicates, the per-issue event cap, lifecycle (resolve, regress, mute),
// retention, and concurrent writers.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../support/temp_directory.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"

namespace {

using warden::sink::event_record;
using warden::sink::status_change;
using warden::sink::store;
using warden::sink::store_options;
using warden::testing::temp_directory;

store_options options_in(const temp_directory& directory) {
  store_options options;
  options.path = directory.file("sink.db");
  options.durable = false;  // the tests do not need power-loss safety
  return options;
}

std::unique_ptr<store> open(const store_options& options) {
  auto opened = store::open(options);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  return *std::move(opened);
}

// An event of group `hash`; ids are unique per call unless given.
event_record event_of(const std::string& hash, std::string event_id = {}) {
  static std::atomic<int> next{0};
  event_record event;
  event.project_id = 1;
  event.event_id = event_id.empty() ? std::to_string(1000000 + next++) : std::move(event_id);
  event.received_ms = 1'700'000'000'000;
  event.timestamp_ms = event.received_ms;
  event.level = "error";
  event.environment = "production";
  event.release = "shop@1.0";
  event.group_hash = hash;
  event.grouping_kind = "exception";
  event.grouping_components = R"(["std::runtime_error","checkout::pay"])";
  event.title = "std::runtime_error: card declined";
  event.culprit = "checkout::pay";
  event.team = "payments";
  event.function = "backend";
  event.owner_source = "sdk";
  event.payload = R"({"message":"card declined"})";
  return event;
}

// Runs `sql` on the database file directly, as another program (or an older sink) would.
void run_sql(const store_options& options, const std::string& sql) {
  auto raw = warden::sink::sqlite_db::open(options.path);
  REQUIRE(raw.ok());
  const absl::Status done = (*raw)->exec(sql);
  REQUIRE_MESSAGE(done.ok(), done.ToString());
}

warden::sink::issue_row issue_of(store& db, std::int64_t id) {
  auto found = db.issue(id);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  return **found;
}

}  // namespace

TEST_CASE("a new database gets the current schema, a newer one is refused") {
  temp_directory directory;
  const store_options options = options_in(directory);
  { open(options); }
  {
    auto db = warden::sink::sqlite_db::open(options.path);
    REQUIRE(db.ok());
    CHECK((*db)->query_int("PRAGMA user_version").value() ==
          warden::sink::current_schema_version());
    CHECK((*db)->query_int("PRAGMA journal_mode = WAL").ok());
    REQUIRE((*db)->exec("PRAGMA user_version = 999").ok());
  }
  auto refused = store::open(options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.status().message().find("newer") != std::string_view::npos);
}

TEST_CASE("events of one group make one issue with exact counts, a repeated id is a duplicate") {
  temp_directory directory;
  auto db = open(options_in(directory));
  auto first = db->write(event_of("a", "e1"));
  REQUIRE(first.ok());
  CHECK(first->first_seen);
  CHECK(first->event_count == 1);
  auto second = db->write(event_of("a", "e2"));
  REQUIRE(second.ok());
  CHECK_FALSE(second->first_seen);
  CHECK(second->issue_id == first->issue_id);
  CHECK(second->event_count == 2);
  auto again = db->write(event_of("a", "e2"));
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->issue_id == first->issue_id);
  auto other = db->write(event_of("b"));
  REQUIRE(other.ok());
  CHECK(other->first_seen);
  CHECK(other->issue_id != first->issue_id);

  const auto issue = issue_of(*db, first->issue_id);
  CHECK(issue.event_count == 2);
  CHECK(issue.stored_events == 2);
  CHECK(issue.status == "unresolved");
  CHECK(issue.team == "payments");
  CHECK(issue.latest_event_id == "e2");
  CHECK(issue.title == "std::runtime_error: card declined");
}

TEST_CASE("distinct users are counted once each") {
  temp_directory directory;
  auto db = open(options_in(directory));
  std::int64_t id = 0;
  for (const char* user : {"ann", "bob", "ann", "", "cid", "bob"}) {
    auto event = event_of("users");
    event.user_key = user;
    auto stored = db->write(std::move(event));
    REQUIRE(stored.ok());
    id = stored->issue_id;
  }
  CHECK(issue_of(*db, id).user_count == 3);
  CHECK(issue_of(*db, id).event_count == 6);
}

TEST_CASE("only the newest events of an issue are kept, counts stay exact, the file stays small") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.max_events_per_issue = 5;
  auto db = open(options);
  std::int64_t id = 0;
  for (int i = 0; i < 3000; ++i) {
    auto event = event_of("flood");
    event.payload = std::string(2000, 'x');
    auto stored = db->write(std::move(event));
    REQUIRE(stored.ok());
    id = stored->issue_id;
  }
  const auto issue = issue_of(*db, id);
  CHECK(issue.event_count == 3000);
  CHECK(issue.stored_events == 5);
  auto kept = db->issue_events(id, 100);
  REQUIRE(kept.ok());
  CHECK(kept->size() == 5);
  db.reset();
  // 3000 events of 2 KB would be 6 MB; five of them and the issue fit in far less.
  CHECK(std::filesystem::file_size(options.path) < 512 * 1024);
}

TEST_CASE("a resolved issue regresses on a new event, unless resolved in a newer release") {
  temp_directory directory;
  auto db = open(options_in(directory));
  const auto first = db->write(event_of("r"));
  REQUIRE(first.ok());
  status_change resolve;
  resolve.actor = "ann";
  resolve.at_ms = 1'700'000'100'000;
  auto resolved = db->change_status(first->issue_id, resolve);
  REQUIRE(resolved.ok());
  CHECK(resolved->status == "resolved");

  auto regressed = db->write(event_of("r"));
  REQUIRE(regressed.ok());
  CHECK(regressed->regressed);
  CHECK(issue_of(*db, first->issue_id).status == "unresolved");
  CHECK(issue_of(*db, first->issue_id).substatus == "regressed");

  status_change next_release;
  next_release.what = status_change::action::resolve_in_next_release;
  next_release.actor = "bob";
  auto pending = db->change_status(first->issue_id, next_release);
  REQUIRE(pending.ok());
  CHECK(pending->resolved_in_release == std::optional<std::string>{"shop@1.0"});
  auto old_code = db->write(event_of("r"));  // release shop@1.0 still running
  REQUIRE(old_code.ok());
  CHECK_FALSE(old_code->regressed);
  CHECK(issue_of(*db, first->issue_id).status == "resolved");
  auto event = event_of("r");
  event.release = "shop@1.1";
  auto fixed_release = db->write(std::move(event));
  REQUIRE(fixed_release.ok());
  CHECK(fixed_release->regressed);
  CHECK(issue_of(*db, first->issue_id).status == "unresolved");
}

TEST_CASE("a muted issue comes back after N events or after its time") {
  temp_directory directory;
  auto db = open(options_in(directory));
  const auto first = db->write(event_of("m"));
  REQUIRE(first.ok());
  status_change mute;
  mute.what = status_change::action::mute;
  mute.mute_events = 3;
  mute.actor = "ann";
  REQUIRE(db->change_status(first->issue_id, mute).ok());
  for (int i = 0; i < 2; ++i) {
    auto stored = db->write(event_of("m"));
    REQUIRE(stored.ok());
    CHECK_FALSE(stored->unmuted);
  }
  CHECK(issue_of(*db, first->issue_id).status == "muted");
  auto third = db->write(event_of("m"));
  REQUIRE(third.ok());
  CHECK(third->unmuted);
  CHECK(issue_of(*db, first->issue_id).status == "unresolved");

  mute.mute_events.reset();
  mute.mute_until_ms = event_of("m").received_ms + 1000;
  REQUIRE(db->change_status(first->issue_id, mute).ok());
  auto early = db->write(event_of("m"));
  REQUIRE(early.ok());
  CHECK_FALSE(early->unmuted);
  auto late_event = event_of("m");
  late_event.received_ms += 5000;
  auto late = db->write(std::move(late_event));
  REQUIRE(late.ok());
  CHECK(late->unmuted);

  status_change forever;
  forever.what = status_change::action::mute;
  REQUIRE(db->change_status(first->issue_id, forever).ok());
  for (int i = 0; i < 5; ++i) CHECK_FALSE(db->write(event_of("m"))->unmuted);
  CHECK(issue_of(*db, first->issue_id).substatus == "forever");
  CHECK(db->change_status(999999, forever).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("retention deletes old events and keeps issues and counts") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.retention = std::chrono::hours{24};
  auto db = open(options);
  auto old_event = event_of("old");
  old_event.received_ms -= 3 * 24 * 3600 * 1000LL;
  const auto stored = db->write(std::move(old_event));
  REQUIRE(stored.ok());
  REQUIRE(db->write(event_of("old")).ok());
  auto deleted = db->apply_retention(event_of("x").received_ms);
  REQUIRE(deleted.ok());
  CHECK(*deleted == 1);
  const auto issue = issue_of(*db, stored->issue_id);
  CHECK(issue.event_count == 2);
  CHECK(issue.stored_events == 1);
}

TEST_CASE("concurrent writers: every event counted once, in few commits") {
  temp_directory directory;
  auto db = open(options_in(directory));
  constexpr int kThreads = 8;
  constexpr int kEach = 150;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!db->write(event_of("hash-" + std::to_string(i % 10))).ok()) ++failures;
        if (i % 50 == 0) static_cast<void>(db->issue(1));
      }
      static_cast<void>(t);
    });
  }
  for (auto& writer : writers) writer.join();
  CHECK(failures == 0);
  std::int64_t total = 0;
  for (std::int64_t id = 1; id <= 10; ++id) total += issue_of(*db, id).event_count;
  CHECK(total == kThreads * kEach);
}

TEST_CASE("a write that fails in a batch fails alone, the others commit with exact counts") {
  temp_directory directory;
  auto db = open(options_in(directory));
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::atomic<int> failures{0};
  std::atomic<int> not_found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!db->write(event_of("hash-" + std::to_string(i % 5))).ok()) ++failures;
      }
    });
  }
  // Interleaved with the writes, so that batches hold both: each fails (no such issue).
  status_change resolve;
  resolve.what = status_change::action::resolve;
  resolve.actor = "test";
  for (int i = 0; i < 100; ++i) {
    const auto changed = db->change_status(1'000'000 + i, resolve);
    if (changed.status().code() == absl::StatusCode::kNotFound) ++not_found;
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(not_found == 100);
  std::int64_t total = 0;
  for (std::int64_t id = 1; id <= 5; ++id) total += issue_of(*db, id).event_count;
  CHECK(total == kThreads * kEach);
  auto owners = db->owner_counts();
  REQUIRE(owners.ok());
  REQUIRE(owners->size() == 1);
  CHECK(owners->front().events == kThreads * kEach);
}

TEST_CASE("a background thread checkpoints the write-ahead log, which stays bounded") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.checkpoint_frames = 64;
  auto db = open(options);
  constexpr int kThreads = 4;
  constexpr int kEach = 1500;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        event_record event = event_of("hash-" + std::to_string(i % 50));
        event.payload = std::string(2000, 'x');
        if (!db->write(std::move(event)).ok()) ++failures;
      }
    });
  }
  // A reader's snapshot holds the checkpoint back while it lasts.
  for (int i = 0; i < 200; ++i) static_cast<void>(db->issues({}));
  for (auto& writer : writers) writer.join();
  CHECK(failures == 0);
  // About 160 MB went through the log (it would be that long without checkpoints); it
  // restarts at 256 frames (1 MB), a little later when a reader is in the way. SQLite
  // alone would not checkpoint (the store replaced its automatic checkpoints), so the
  // data reached the file through ours.
  const auto wal_bytes = std::filesystem::file_size(options.path + "-wal");
  CHECK(wal_bytes < 16 * 1024 * 1024);
  CHECK(std::filesystem::file_size(options.path) > 4 * 1024 * 1024);
  std::int64_t total = 0;
  for (std::int64_t id = 1; id <= 50; ++id) total += issue_of(*db, id).event_count;
  CHECK(total == kThreads * kEach);
}

TEST_CASE("events a crash left out of the issue counts are counted when the store opens") {
  temp_directory directory;
  const store_options options = options_in(directory);
  std::int64_t issue_id = 0;
  {
    auto db = open(options);
    for (int i = 0; i < 3; ++i) {
      auto stored = db->write(event_of("crashed"));
      REQUIRE(stored.ok());
      issue_id = stored->issue_id;
    }
  }
  // What a kill -9 between an events' commit and the fold of its counts leaves: two
  // events after the issue's counted_through, a new user, level and environment among
  // them; counted.through_event lags behind the issue's mark (other issues were not
  // folded yet), so the three folded events are after it too, and must not count twice.
  run_sql(options,
          "INSERT INTO events (project_id, event_id, issue_id, received, timestamp, level, "
          "environment, release, user_key, payload, owner_source) SELECT project_id, "
          "event_id || '-late', issue_id, received + 5, timestamp, 'warning', 'staging', "
          "release, 'id:late', payload, 'rules' FROM events WHERE id <= 2; "
          "UPDATE counted SET through_event = 0");
  auto db = open(options);
  const auto issue = issue_of(*db, issue_id);
  CHECK(issue.event_count == 5);
  CHECK(issue.stored_events == 5);
  CHECK(issue.user_count == 1);
  CHECK(issue.level == "warning");
  CHECK(issue.last_seen_ms == 1'700'000'000'005);
  auto facets = db->issue_facets(issue_id);
  REQUIRE(facets.ok());
  std::map<std::string, std::int64_t> seen;
  for (const auto& facet : *facets) seen[facet.facet + "=" + facet.value] = facet.count;
  CHECK(seen["level=error"] == 3);
  CHECK(seen["level=warning"] == 2);
  CHECK(seen["environment=staging"] == 2);
  CHECK(seen["environment=production"] == 3);
  auto owners = db->owner_counts();
  REQUIRE(owners.ok());
  std::map<std::string, std::int64_t> by_source;
  for (const auto& owner : *owners) by_source[owner.owner_source] += owner.events;
  CHECK(by_source["sdk"] == 3);
  CHECK(by_source["rules"] == 2);
  // Counted once: opening again adds nothing.
  db.reset();
  db = open(options);
  CHECK(issue_of(*db, issue_id).event_count == 5);
}

TEST_CASE("under load the counts come later but exactly, and the cap holds") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.max_events_per_issue = 20;
  options.fold_interval = std::chrono::milliseconds{50};
  auto db = open(options);
  constexpr int kThreads = 6;
  constexpr int kEach = 300;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  std::atomic<std::int64_t> highest_count{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        event_record event = event_of(i % 2 == 0 ? "even" : "odd");
        event.user_key = "id:" + std::to_string((t * kEach + i) % 37);
        auto stored = db->write(std::move(event));
        if (!stored.ok()) ++failures;
        // The count a write reports includes what is not folded yet.
        if (stored.ok() && stored->event_count > highest_count) highest_count = stored->event_count;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  CHECK(failures == 0);
  CHECK(highest_count >= kThreads * kEach / 2 - kThreads);
  std::int64_t total = 0;
  std::int64_t users = 0;
  for (std::int64_t id = 1; id <= 2; ++id) {
    const auto issue = issue_of(*db, id);
    total += issue.event_count;
    users += issue.user_count;
    CHECK(issue.stored_events == 20);
  }
  CHECK(total == kThreads * kEach);
  CHECK(users == 37 + 37);  // every user sent events of both issues
  auto owners = db->owner_counts();
  REQUIRE(owners.ok());
  REQUIRE(owners->size() == 1);
  CHECK(owners->front().events == kThreads * kEach);
  auto events = db->issue_events(1, 1000);
  REQUIRE(events.ok());
  CHECK(events->size() == 20);
}

TEST_CASE("issues are listed by owner, status and facets, newest first, page by page") {
  temp_directory directory;
  auto db = open(options_in(directory));
  for (int i = 0; i < 5; ++i) {
    auto event = event_of("pay-" + std::to_string(i));
    event.received_ms += i;
    REQUIRE(db->write(std::move(event)).ok());
  }
  auto search = event_of("search-1");
  search.team = "search";
  search.environment = "staging";
  search.level = "warning";
  search.received_ms += 100;
  const auto search_issue = db->write(std::move(search));
  REQUIRE(search_issue.ok());

  warden::sink::issue_filter filter;
  filter.team = "payments";
  auto payments = db->issues(filter);
  REQUIRE(payments.ok());
  REQUIRE(payments->size() == 5);
  CHECK(payments->front().group_hash == "pay-4");
  CHECK(payments->back().group_hash == "pay-0");

  filter = {};
  filter.environment = "staging";
  auto staging = db->issues(filter);
  REQUIRE(staging.ok());
  REQUIRE(staging->size() == 1);
  CHECK(staging->front().team == "search");
  filter = {};
  filter.level = "warning";
  CHECK(db->issues(filter)->size() == 1);
  filter.level = "fatal";
  CHECK(db->issues(filter)->empty());

  // Two pages of three.
  filter = {};
  filter.limit = 3;
  auto first_page = db->issues(filter);
  REQUIRE(first_page.ok());
  REQUIRE(first_page->size() == 3);
  filter.after = {first_page->back().last_seen_ms, first_page->back().id};
  auto second_page = db->issues(filter);
  REQUIRE(second_page.ok());
  REQUIRE(second_page->size() == 3);
  CHECK(second_page->front().id != first_page->back().id);

  status_change resolve;
  REQUIRE(db->change_status(search_issue->issue_id, resolve).ok());
  filter = {};
  filter.status = "resolved";
  CHECK(db->issues(filter)->size() == 1);

  auto counts = db->owner_counts();
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 2);
  CHECK(counts->front().team == "payments");
  CHECK(counts->front().events == 5);
}

TEST_CASE("settings survive a restart") {
  temp_directory directory;
  const store_options options = options_in(directory);
  {
    auto db = open(options);
    CHECK_FALSE(db->setting("default_key")->has_value());
    REQUIRE(db->put_setting("default_key", "it's 0123").ok());
    REQUIRE(db->put_setting("default_key", "it's 4567").ok());
  }
  auto db = open(options);
  CHECK(db->setting("default_key")->value_or("") == "it's 4567");
}

TEST_CASE("a retried event is a duplicate even after the cap dropped it, within the id bound") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.max_events_per_issue = 5;
  options.max_recent_event_ids = 50;
  // Ids go to event_ids in runs: dropped while waiting for theirs, or after it.
  SUBCASE("ids indexed in long runs") { options.id_index_run = 4096; }
  SUBCASE("each id indexed at once") { options.id_index_run = 1; }
  auto db = open(options);
  for (int i = 0; i < 20; ++i)
    REQUIRE(db->write(event_of("retry", "id-" + std::to_string(i))).ok());
  auto retried = db->write(event_of("retry", "id-0"));
  REQUIRE(retried.ok());
  CHECK(retried->duplicate);
  // Past the bound the oldest ids are forgotten: the price of a bounded database.
  for (int i = 20; i < 120; ++i) {
    REQUIRE(db->write(event_of("retry", "id-" + std::to_string(i))).ok());
  }
  CHECK_FALSE(db->write(event_of("retry", "id-0"))->duplicate);
  CHECK(db->write(event_of("retry", "id-119"))->duplicate);
  CHECK(issue_of(*db, retried->issue_id).event_count == 121);
}

TEST_CASE("an event is found by its id, and its retry is a duplicate, before its id is indexed") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.fold_interval = std::chrono::hours{1};  // nothing is indexed while idle
  options.id_index_run = 1000;
  auto db = open(options);
  auto first = db->write(event_of("waiting", "w1"));
  REQUIRE(first.ok());
  auto retried = db->write(event_of("waiting", "w1"));
  REQUIRE(retried.ok());
  CHECK(retried->duplicate);
  CHECK(retried->issue_id == first->issue_id);
  // A read indexes what waits first.
  auto found = db->event(1, "w1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->issue_id == first->issue_id);
  CHECK(db->write(event_of("waiting", "w1"))->duplicate);
  CHECK(issue_of(*db, first->issue_id).event_count == 1);
}

TEST_CASE("ids not indexed when the process died are indexed when the store opens") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.fold_interval = std::chrono::hours{1};
  options.max_events_per_issue = 10'000;
  int events = 0;
  // The writer writes a run of ids over several batches, 512 per batch.
  SUBCASE("before any was indexed") {
    options.id_index_run = 1000;
    events = 10;
  }
  SUBCASE("in the middle of a run") {
    options.id_index_run = 600;
    events = 600;  // the 600th starts the run, its batch writes 512 of them
  }
  const std::string copy = directory.path() + "/copy.db";
  std::int64_t issue_id = 0;
  {
    auto db = open(options);
    for (int i = 0; i < events; ++i) {
      auto stored = db->write(event_of("died", "d" + std::to_string(i)));
      REQUIRE(stored.ok());
      issue_id = stored->issue_id;
    }
    // The files as a kill -9 leaves them: committed, the ids and counts not all written.
    for (const char* suffix : {"", "-wal"}) {
      std::filesystem::copy_file(options.path + suffix, copy + suffix);
    }
    auto raw = warden::sink::sqlite_db::open(copy);
    REQUIRE(raw.ok());
    CHECK((*raw)->query_int("SELECT count(*) FROM event_ids").value() == (events == 600 ? 512 : 0));
    CHECK((*raw)->query_int("SELECT ids_through FROM counted").value() == 0);
  }
  options.path = copy;
  auto db = open(options);
  for (int i = 0; i < events; ++i) {
    auto retried = db->write(event_of("died", "d" + std::to_string(i)));
    REQUIRE(retried.ok());
    CHECK(retried->duplicate);
  }
  CHECK(issue_of(*db, issue_id).event_count == events);
  auto raw = warden::sink::sqlite_db::open(copy);
  REQUIRE(raw.ok());
  CHECK((*raw)->query_int("SELECT count(*) FROM event_ids").value() == events);
}

TEST_CASE("attachments are stored with their event and go when the cap drops it") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.max_events_per_issue = 2;
  auto db = open(options);
  REQUIRE(db->write(event_of("with-files", "first")).ok());
  warden::sink::attachment_record file;
  file.project_id = 1;
  file.event_id = "first";
  file.filename = "core.txt";
  file.content_type = "text/plain";
  file.attachment_type = "event.attachment";
  file.data = std::string("bytes\0with nul", 14);
  REQUIRE(db->write_attachment(file).ok());
  auto detail = db->event(1, "first");
  REQUIRE(detail.ok());
  REQUIRE(detail->has_value());
  REQUIRE((*detail)->attachments.size() == 1);
  const auto listed = (*detail)->attachments.front();
  CHECK(listed.filename == "core.txt");
  CHECK(listed.size == 14);
  auto bytes = db->attachment(1, "first", listed.id);
  REQUIRE(bytes.ok());
  REQUIRE(bytes->has_value());
  CHECK((*bytes)->data == file.data);
  CHECK_FALSE(db->attachment(1, "first", listed.id + 1)->has_value());
  CHECK_FALSE(db->event(2, "first")->has_value());

  REQUIRE(db->write(event_of("with-files")).ok());
  REQUIRE(db->write(event_of("with-files")).ok());
  CHECK_FALSE(db->event(1, "first")->has_value());
  CHECK_FALSE(db->attachment(1, "first", listed.id)->has_value());
}

TEST_CASE("a database of schema 1 is migrated to the current schema on open") {
  temp_directory directory;
  const store_options options = options_in(directory);
  std::int64_t old_issue = 0;
  {
    auto db = open(options);
    auto stored = db->write(event_of("old", "o1"));
    REQUIRE(stored.ok());
    old_issue = stored->issue_id;
  }
  // Schema 1 had no attachments, the issue indexes on last_seen, issue counts written
  // with each event, no owner source per event, no per-issue counted mark, no alerting
  // tables, and event ids unique in the events table and an index of events by issue
  // rather than event_ids and issue_events.
  run_sql(options,
          "DROP TABLE event_ids; CREATE UNIQUE INDEX events_unique_id ON events (project_id, "
          "event_id); DROP TABLE issue_events; CREATE INDEX events_by_issue ON events (issue_id, "
          "id); DROP TABLE inbound_deliveries; DROP TABLE notification_items; DROP TABLE "
          "notification_groups; DROP TABLE digests; "
          "DROP TABLE pagerduty_alerts; DROP TABLE alert_rule_state; DROP TABLE issue_windows; "
          "DROP TABLE issue_window_users; "
          "DROP TABLE tickets; DROP TABLE delivery_attempts; "
          "DROP TABLE outbox; "
          "DROP TABLE attachments; DROP INDEX issues_by_owner; CREATE INDEX issues_by_owner "
          "ON issues (team, function, product, last_seen); CREATE INDEX issues_by_last_seen "
          "ON issues (last_seen); DROP TABLE counted; ALTER TABLE events DROP COLUMN "
          "owner_source; ALTER TABLE issues DROP COLUMN counted_through; "
          "PRAGMA user_version = 1");
  auto db = open(options);
  // Its events were counted already: the migration does not count them again.
  CHECK(issue_of(*db, old_issue).event_count == 1);
  // Its event ids moved to event_ids: a retry is a duplicate, the event is found by id.
  auto retried = db->write(event_of("old", "o1"));
  REQUIRE(retried.ok());
  CHECK(retried->duplicate);
  auto found = db->event(1, "o1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->issue_id == old_issue);
  // Its event is listed with its issue, before the new ones.
  REQUIRE(db->write(event_of("old", "o2")).ok());
  auto listed = db->issue_events(old_issue, 5);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 2);
  {
    auto raw = warden::sink::sqlite_db::open(options.path);
    REQUIRE(raw.ok());
    CHECK((*raw)->query_int("PRAGMA user_version").value() ==
          warden::sink::current_schema_version());
    CHECK((*raw)
              ->query_int("SELECT count(*) FROM sqlite_schema WHERE name = "
                          "'issues_by_last_seen'")
              .value() == 0);
  }
  REQUIRE(db->write(event_of("migrated", "m1")).ok());
  warden::sink::attachment_record file;
  file.project_id = 1;
  file.event_id = "m1";
  file.data = "x";
  CHECK(db->write_attachment(file).ok());
}

TEST_CASE("a locked database answers Unavailable within the write timeout, then recovers") {
  temp_directory directory;
  store_options options = options_in(directory);
  options.write_timeout = std::chrono::milliseconds{200};
  auto db = open(options);
  REQUIRE(db->write(event_of("locked", "before")).ok());
  auto other = warden::sink::sqlite_db::open(options.path);
  REQUIRE(other.ok());
  REQUIRE((*other)->exec("BEGIN IMMEDIATE").ok());  // holds the write lock
  auto blocked = db->write(event_of("locked", "during"));
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.status().code() == absl::StatusCode::kUnavailable);
  REQUIRE((*other)->exec("COMMIT").ok());
  // The writer gives the blocked batch up after SQLite's busy timeout, then goes on.
  bool recovered = false;
  for (int attempt = 0; attempt < 100 && !recovered; ++attempt) {
    recovered = db->write(event_of("locked", "during")).ok();
  }
  CHECK(recovered);
}
