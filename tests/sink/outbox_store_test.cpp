// The outbox's rows in a real SQLite store (temp directory): rows written by a write hook
// commit with their event and disappear with it, one row per idempotency key, claims
// that keep the order of one ordering key, recovery of rows a stopped process left in
// flight, replays, and pruning of the delivery log.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/temp_directory.hpp"
#include "outbox/outbox_store.hpp"
#include "store/store.hpp"

namespace {

using warden::sink::delivery_row;
using warden::sink::outbox_intent;
using warden::sink::sqlite_db;
using warden::sink::store;
using warden::testing::temp_directory;

// A hook that queues one delivery per stored event, and fails for events whose title
// says so (after queuing, so that the row must be undone with the event).
class queuing_hooks final : public warden::sink::write_hooks {
 public:
  absl::Status after_event(sqlite_db& db, const warden::sink::event_record& event,
                           const warden::sink::write_result& result) override {
    outbox_intent intent;
    intent.kind = "ticket.create";
    intent.target = "youtrack";
    intent.issue_id = result.issue_id;
    intent.idempotency_key = "ticket.create:" + event.event_id;
    intent.intent = "{}";
    intent.created_ms = event.received_ms;
    absl::StatusOr<std::int64_t> queued = warden::sink::enqueue_delivery(db, intent);
    if (!queued.ok()) return queued.status();
    if (event.title == "fail") return absl::InternalError("the hook failed");
    return absl::OkStatus();
  }
  absl::Status after_status_change(sqlite_db&, const warden::sink::issue_row&,
                                   const warden::sink::status_change&) override {
    return absl::OkStatus();
  }
  void after_commit() noexcept override { ++commits; }
  int commits = 0;
};

warden::sink::event_record event_of(const std::string& id, const std::string& title) {
  warden::sink::event_record event;
  event.project_id = 1;
  event.event_id = id;
  event.received_ms = 1000;
  event.timestamp_ms = 1000;
  event.group_hash = title;
  event.grouping_components = "[]";
  event.title = title;
  event.payload = "{}";
  return event;
}

std::unique_ptr<store> open_store(const temp_directory& directory,
                                  std::shared_ptr<warden::sink::write_hooks> hooks = nullptr) {
  warden::sink::store_options options;
  options.path = directory.file("outbox.db");
  options.durable = false;
  options.hooks = std::move(hooks);
  auto opened = store::open(options);
  REQUIRE(opened.ok());
  return *std::move(opened);
}

std::vector<delivery_row> all_rows(store& db) {
  std::vector<delivery_row> rows;
  REQUIRE(db.read([&](sqlite_db& connection) -> absl::Status {
              auto listed = warden::sink::list_deliveries(connection, {});
              if (!listed.ok()) return listed.status();
              rows = *std::move(listed);
              return absl::OkStatus();
            }).ok());
  return rows;
}

// Queues a row with `key` and `ordering`, due at `due_ms`.
std::int64_t queue(store& db, const std::string& key, const std::string& ordering,
                   std::int64_t due_ms = 0) {
  std::int64_t id = 0;
  REQUIRE(db.run_in_writer([&](sqlite_db& connection) -> absl::Status {
              outbox_intent intent;
              intent.kind = "ticket.comment";
              intent.target = "youtrack";
              intent.idempotency_key = key;
              intent.ordering_key = ordering;
              intent.intent = "{}";
              intent.created_ms = due_ms;
              auto queued = warden::sink::enqueue_delivery(connection, intent);
              if (!queued.ok()) return queued.status();
              id = *queued;
              return absl::OkStatus();
            }).ok());
  return id;
}

std::optional<delivery_row> claim(store& db, std::int64_t now_ms) {
  std::optional<delivery_row> claimed;
  REQUIRE(db.run_in_writer([&](sqlite_db& connection) -> absl::Status {
              auto row = warden::sink::claim_due_delivery(connection, now_ms);
              if (!row.ok()) return row.status();
              claimed = *std::move(row);
              return absl::OkStatus();
            }).ok());
  return claimed;
}

void finish(store& db, delivery_row row, const std::string& state, std::int64_t at_ms) {
  row.state = state;
  row.finished_ms = at_ms;
  REQUIRE(db.run_in_writer([&](sqlite_db& connection) {
              return warden::sink::update_delivery(connection, row);
            }).ok());
}

}  // namespace

TEST_CASE("rows a hook queues commit with their event and are undone with it") {
  temp_directory directory;
  auto hooks = std::make_shared<queuing_hooks>();
  auto db = open_store(directory, hooks);
  REQUIRE(db->write(event_of("e1", "ok")).ok());
  CHECK_FALSE(db->write(event_of("e2", "fail")).ok());
  REQUIRE(db->write(event_of("e3", "ok")).ok());
  const auto rows = all_rows(*db);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].what.idempotency_key == "ticket.create:e3");
  CHECK(rows[1].what.idempotency_key == "ticket.create:e1");
  CHECK(rows[1].state == "pending");
  CHECK_FALSE(db->event(1, "e2")->has_value());  // the event went with its row
  CHECK(hooks->commits >= 2);
  // A duplicate event calls no hook: still two rows.
  REQUIRE(db->write(event_of("e1", "ok")).ok());
  CHECK(all_rows(*db).size() == 2);
}

TEST_CASE("one row per idempotency key, and one ordering key is delivered in order") {
  temp_directory directory;
  auto db = open_store(directory);
  const std::int64_t first = queue(*db, "a:1", "ticket:1");
  CHECK(queue(*db, "a:1", "ticket:1") == 0);  // asked again: the same intent
  const std::int64_t second = queue(*db, "a:2", "ticket:1");
  const std::int64_t other = queue(*db, "b:1", "ticket:2");
  const std::int64_t later = queue(*db, "c:1", "ticket:3", 5000);

  auto claimed = claim(*db, 100);
  REQUIRE(claimed);
  CHECK(claimed->id == first);
  CHECK(claimed->state == "in_flight");
  CHECK(claimed->attempts == 1);
  // The second of ticket:1 waits for the first; ticket:2 does not; c:1 is not due.
  auto next = claim(*db, 100);
  REQUIRE(next);
  CHECK(next->id == other);
  CHECK_FALSE(claim(*db, 100));
  finish(*db, *claimed, "delivered", 200);
  auto then = claim(*db, 300);
  REQUIRE(then);
  CHECK(then->id == second);
  auto due_later = claim(*db, 5000);
  REQUIRE(due_later);
  CHECK(due_later->id == later);
}

TEST_CASE("rows left in flight are due again and uncertain after a restart") {
  temp_directory directory;
  std::int64_t id = 0;
  {
    auto db = open_store(directory);
    id = queue(*db, "k", "ticket:1");
    auto claimed = claim(*db, 100);
    REQUIRE(claimed);
    REQUIRE(db->run_in_writer([&](sqlite_db& connection) -> absl::Status {
                warden::sink::delivery_attempt attempt;
                attempt.attempt = 1;
                attempt.step = "send";
                attempt.started_ms = 100;
                attempt.request = "POST http://127.0.0.1/";
                return warden::sink::begin_attempt(connection, id, attempt).status();
              }).ok());
  }  // the process "stops" with the row in flight and its exchange unanswered
  auto db = open_store(directory);
  REQUIRE(db->run_in_writer([](sqlite_db& connection) {
              return warden::sink::recover_interrupted_deliveries(connection, 900);
            }).ok());
  const auto rows = all_rows(*db);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "retrying");
  CHECK(rows[0].uncertain);
  CHECK(rows[0].next_attempt_ms == 900);
  std::vector<warden::sink::delivery_attempt> attempts;
  REQUIRE(db->read([&](sqlite_db& connection) -> absl::Status {
              auto logged = warden::sink::delivery_attempts(connection, id);
              if (!logged.ok()) return logged.status();
              attempts = *std::move(logged);
              return absl::OkStatus();
            }).ok());
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].outcome == "interrupted");
  auto again = claim(*db, 900);
  REQUIRE(again);
  CHECK(again->attempts == 2);
}

TEST_CASE("only failed rows are replayed, and the log forgets finished rows in time") {
  temp_directory directory;
  auto db = open_store(directory);
  const std::int64_t failed = queue(*db, "f", "");
  const std::int64_t delivered = queue(*db, "d", "");
  auto first = claim(*db, 10);
  auto second = claim(*db, 10);
  REQUIRE(first);
  REQUIRE(second);
  finish(*db, first->id == failed ? *first : *second, "failed", 1000);
  finish(*db, first->id == delivered ? *first : *second, "delivered", 1000);

  const auto replay = [&](std::int64_t id) {
    absl::StatusOr<std::int64_t> made = absl::InternalError("not run");
    static_cast<void>(db->run_in_writer([&](sqlite_db& connection) {
      made = warden::sink::replay_delivery(connection, id, "ann", 2000);
      return made.status();
    }));
    return made;
  };
  CHECK(absl::IsFailedPrecondition(replay(delivered).status()));
  CHECK(absl::IsNotFound(replay(12345).status()));
  auto replayed = replay(failed);
  REQUIRE(replayed.ok());
  auto again = replay(failed);
  REQUIRE(again.ok());
  CHECK(*again != *replayed);  // each replay is its own intent
  const auto rows = all_rows(*db);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].what.replay_of == failed);
  CHECK(rows[0].what.actor == "ann");
  CHECK(rows[0].what.idempotency_key == "f:replay:2");
  CHECK(rows[1].what.idempotency_key == "f:replay:1");

  // Delivered rows are kept until 1500, failed ones until 3000.
  const auto prune = [&](std::int64_t delivered_before, std::int64_t failed_before) {
    std::int64_t pruned = -1;
    REQUIRE(db->run_in_writer([&](sqlite_db& connection) -> absl::Status {
                auto deleted =
                    warden::sink::prune_deliveries(connection, delivered_before, failed_before);
                if (!deleted.ok()) return deleted.status();
                pruned = *deleted;
                return absl::OkStatus();
              }).ok());
    return pruned;
  };
  CHECK(prune(500, 500) == 0);
  CHECK(prune(1500, 500) == 1);
  CHECK(prune(1500, 3000) == 1);
  CHECK(all_rows(*db).size() == 2);  // the replays, still pending
}
