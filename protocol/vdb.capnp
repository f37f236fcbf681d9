# VDB's RPC API (Cap'n Proto). docs/rpc.md is the reference.
#
# A client connects and gets the bootstrap capability `Gate`; `Gate.open` with the API key
# returns the `Database` capability. Without the right key there is no `Database` to call; the
# read-only key gives one whose writes are refused.
#
# Expected outcomes (invalid argument, not found, already exists, ...) are values: every result
# carries an `Error` whose code is `ok` on success, with the field that was wrong. Failures of
# the infrastructure (internal errors, I/O, shutdown) are Cap'n Proto exceptions.
#
# Rules for changing this file: never reuse or renumber an ordinal; add fields and methods at
# the end; a removed field stays, marked obsolete.
@0xa09dce1d8a9c9d2a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("vdb::rpc");

struct Error {
  code @0 :Code;
  field @1 :Text;   # the request field that was wrong, e.g. "points[3].vector", when known
  message @2 :Text; # the whole explanation (it repeats the field)

  enum Code {
    ok @0;
    invalidArgument @1;
    notFound @2;
    alreadyExists @3;
    outOfRange @4;
    unsupported @5;
    permissionDenied @6;
    deadlineExceeded @7;
  }
}

struct PointId {
  union {
    num @0 :UInt64;
    uuid @1 :Text;
  }
}

struct NamedVector {
  name @0 :Text;            # "" for the unnamed vector
  data @1 :List(Float32);
}

struct Point {
  id @0 :PointId;
  vectors @1 :List(NamedVector);
  payload @2 :Text;         # a JSON object; empty means {}
}

# Which points a write applies to.
struct Selector {
  union {
    ids @0 :List(PointId);
    filter @1 :Text;        # a filter as JSON (Qdrant's filter language)
  }
}

struct PayloadSelector {
  union {
    all @0 :Void;
    none @1 :Void;
    include @2 :List(Text);
    exclude @3 :List(Text);
  }
}

struct VectorSelector {
  union {
    none @0 :Void;
    all @1 :Void;
    names @2 :List(Text);
  }
}

# A point as reads and searches return it.
struct Record {
  id @0 :PointId;
  version @1 :UInt64;
  score @2 :Float32;        # searches only
  hasPayload @3 :Bool;
  payload @4 :Text;         # JSON, when hasPayload
  vectors @5 :List(NamedVector);
}

struct Query {
  vectorName @0 :Text;
  vector @1 :List(Float32);
  limit @2 :UInt32 = 10;
  offset @3 :UInt32;
  filter @4 :Text;          # empty: no filter
  hasScoreThreshold @5 :Bool;
  scoreThreshold @6 :Float32;
  withPayload @7 :PayloadSelector;
  withVector @8 :VectorSelector;
  hnswEf @9 :UInt32;        # 0: the index's ef_construct
  exact @10 :Bool;
  indexedOnly @11 :Bool;
  quantization @12 :QuantizationParams;
}

# Qdrant's params.quantization: how a search uses quantized codes.
struct QuantizationParams {
  ignore @0 :Bool;          # score on the original vectors
  hasRescore @1 :Bool;      # false: the default (no rescoring for scalar)
  rescore @2 :Bool;         # re-rank the candidates on the original vectors
  oversampling @3 :Float64 = 1.0;  # candidates by code score: oversampling x limit (1..100)
}

struct Hits {
  points @0 :List(Record);
}

struct WriteResult {
  operationId @0 :UInt64;
  completed @1 :Bool;       # false when sent with wait = false: accepted, applied in order later
}

struct SnapshotDescription {
  name @0 :Text;
  size @1 :UInt64;          # bytes
  creationTime @2 :Text;    # UTC, ISO 8601
}

interface Gate {
  # The Database capability for this key; permissionDenied when the key is wrong.
  open @0 (apiKey :Text) -> (error :Error, database :Database, readOnly :Bool);
}

interface Database {
  createCollection @0 (name :Text, config :Text) -> (error :Error);
  deleteCollection @1 (name :Text) -> (error :Error);
  listCollections @2 () -> (error :Error, names :List(Text));
  collectionInfo @3 (name :Text) -> (error :Error, info :Text);

  upsert @4 (collection :Text, points :List(Point), wait :Bool = true)
      -> (error :Error, result :WriteResult);
  deletePoints @5 (collection :Text, selector :Selector, wait :Bool = true)
      -> (error :Error, result :WriteResult);
  setPayload @6 (collection :Text, payload :Text, selector :Selector, key :Text,
                 wait :Bool = true) -> (error :Error, result :WriteResult);
  overwritePayload @7 (collection :Text, payload :Text, selector :Selector, wait :Bool = true)
      -> (error :Error, result :WriteResult);
  deletePayload @8 (collection :Text, keys :List(Text), selector :Selector, wait :Bool = true)
      -> (error :Error, result :WriteResult);
  clearPayload @9 (collection :Text, selector :Selector, wait :Bool = true)
      -> (error :Error, result :WriteResult);
  updateVectors @10 (collection :Text, points :List(Point), wait :Bool = true)
      -> (error :Error, result :WriteResult);
  createPayloadIndex @11 (collection :Text, field :Text, schema :Text, wait :Bool = true)
      -> (error :Error, result :WriteResult);
  deletePayloadIndex @12 (collection :Text, field :Text, wait :Bool = true)
      -> (error :Error, result :WriteResult);

  retrieve @13 (collection :Text, ids :List(PointId), withPayload :PayloadSelector,
                withVector :VectorSelector) -> (error :Error, points :List(Record));
  scroll @14 (collection :Text, filter :Text, limit :UInt32 = 10, hasOffset :Bool,
              offset :PointId, withPayload :PayloadSelector, withVector :VectorSelector)
      -> (error :Error, points :List(Record), hasNext :Bool, nextOffset :PointId);
  count @15 (collection :Text, filter :Text, exact :Bool = true)
      -> (error :Error, count :UInt64);
  search @16 (collection :Text, query :Query) -> (error :Error, points :List(Record));
  searchBatch @17 (collection :Text, queries :List(Query)) -> (error :Error, results :List(Hits));

  health @18 () -> (error :Error, version :Text, collections :UInt64);

  # Snapshots of a collection kept in the data folder; `name` is a snapshot file name from
  # listSnapshots, or "OTHER_COLLECTION/NAME" to recover from another collection's snapshot.
  createSnapshot @19 (collection :Text) -> (error :Error, snapshot :SnapshotDescription);
  listSnapshots @20 (collection :Text) -> (error :Error, snapshots :List(SnapshotDescription));
  deleteSnapshot @21 (collection :Text, name :Text) -> (error :Error);
  recoverSnapshot @22 (collection :Text, name :Text) -> (error :Error);
}
