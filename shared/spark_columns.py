"""The contract as native Spark Column expressions, the alternative to the Python UDF the Glue job runs.

`apply_contract(df)` adds the verdict and the curated fields to a DataFrame of raw records. Nothing
here is a Python UDF: every rule compiles to Catalyst expressions. The Glue job ran this until the
micro-batch benchmark showed the price of its size in a streaming query, which plans and generates code
for it again every micro-batch (`glue_streaming.pipeline.curate`); `make bench` measures both forms, and
the differential test keeps them equal. `SESSION_SETTINGS` still configure the job's sessions.

Spark's JSON reader (Jackson) is more lenient than the contract: it ignores bytes after the first
value, accepts lone surrogate escapes, decodes invalid UTF-8 with replacement characters and, reading
a field as a string, cannot tell the string "12" from the number 12. Each gap is closed natively.
String values are marked (prefixed with MARK) before parsing, so a string field reads back as "~12"
and a number as "12". A record then takes one of two paths:

- fast path, for almost every record: a flat object with no escapes or arrays (see `_compact`);
  marking is a byte-level replace, and one typed parse does the rest;
- exact path, for the others: every string literal marked by regex, the record parsed inside a
  wrapper whose sentinel proves it is one JSON value, brackets counted, lone surrogate escapes
  searched (see `_exact_document`). It sits in a lazily evaluated branch that fast records never run.

Uses only Spark 3.3 APIs (AWS Glue 4.0) and behaves the same under Spark 4's ANSI mode: every cast
that could fail is guarded by the condition that makes it safe. Sessions that run it apply
`SESSION_SETTINGS`.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from shared import contract as c

# SQL settings for sessions that run the contract (all settable at run time, spark.conf.set):
# - HotSpot does not compile methods over 8,000 bytes of bytecode; above this limit Spark falls back
#   from whole-stage code to per-operator code, which is compiled. Spark's documentation advises
#   8000 on HotSpot; measured here, the contract runs ~2x faster with it.
# - Spark 3.3 (Glue 4.0) plans the contract over a file source in exponential time: SchemaPruning
#   inlines every projection into the scan before it checks its own switch (12 s at nine stages,
#   then out of memory, measured with PySpark 3.3.0). Spark 4 is not affected; excluding the rule
#   only stops nested-column pruning in Parquet scans, which this pipeline does not use.
# - Spark 3.3 runs out of memory planning a filter on the contract's status (de-duplication keeps valid
#   records only): PushDownPredicates inlines the status expression through every projection of the
#   contract, and canonicalising the result is exponential in 3.3 (measured: OutOfMemoryError with a
#   1 GB driver). No source here supports pushdown, so the rule buys nothing; Spark 4 plans either way.
# - Streaming re-optimises the plan every micro-batch, and the Glue pipeline, when it ran these expressions,
#   held the contract once per branch. Dynamic partition pruning and constraint propagation walk every
#   expression of it for nothing (no partitioned scan is joined; no filter is inferred that matters):
#   measured with the assembled pipeline on PySpark 4.3, optimising took 6.0 s with them and 0.6 s without.
# - Runtime filters (a bloom filter or semi-join injected on a join's other side) trim the aliases of the
#   contract's whole expression tree to decide where to inject: with the four branches of the Glue
#   pipeline this ran Spark 4.3's driver out of memory (OutOfMemoryError in InjectRuntimeFilter, seen
#   in `make bench`). The pipeline's join (maintenance) gains nothing from them.
# The Glue job, which now runs the contract in a Python UDF, keeps these settings: none costs it anything, and
# PushDownPredicates, excluded, would also make the branches' copies of its plan differ (`glue_streaming.pipeline`).
SESSION_SETTINGS = {
    "spark.sql.codegen.hugeMethodLimit": "8000",
    "spark.sql.optimizer.excludedRules": (
        "org.apache.spark.sql.execution.datasources.SchemaPruning,"
        "org.apache.spark.sql.catalyst.optimizer.PushDownPredicates"
    ),
    "spark.sql.optimizer.dynamicPartitionPruning.enabled": "false",
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.optimizer.runtime.bloomFilter.enabled": "false",
    "spark.sql.optimizer.runtimeFilter.semiJoinReduction.enabled": "false",
}

MARK = "~"
MS_PER_DAY = 86_400_000
# JSON type codes of a raw field (integers compare faster than strings).
MISSING, STRING, NUMBER, OTHER = 0, 1, 2, 3

ALL_FIELDS = tuple(
    {f.name: f for f in (c.EVENT_TYPE_FIELD, *c.COMMON_FIELDS, *sum(c.TYPE_FIELDS.values(), ()))}.values()
)
NUMERIC_FIELDS = frozenset(f.name for f in ALL_FIELDS if f.kind in ("number", "integer"))
TIME_FIELD = next(f for f in c.COMMON_FIELDS if f.kind == "timestamp").name

_STRING_LITERAL = r'(?s)"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
_LONE_SURROGATE = (
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "allowNonNumericNumbers": "false",
    "allowSingleQuotes": "false",
    "allowUnquotedControlChars": "false",
    "allowBackslashEscapingAnyCharacter": "false",
    "allowNumericLeadingZeros": "false",
    "allowComments": "false",
    "allowUnquotedFieldNames": "false",
}
# The fast parse reads numbers as doubles, sparing Jackson from printing each back to text. A field
# of another JSON type fails its conversion and sets `_corrupt` (in Spark 3.3 and 4 alike: typed
# fields cannot be read as null silently), and the record goes to the exact path.
_FAST_SCHEMA = T.StructType(
    [T.StructField(n, T.DoubleType() if n in NUMERIC_FIELDS else T.StringType()) for n in c.RAW_FIELD_NAMES]
    + [T.StructField("_corrupt", T.StringType())]
)
_FAST_OPTIONS = {**_JSON_OPTIONS, "columnNameOfCorruptRecord": "_corrupt"}
# The exact path marks keys too, so that no key of the record can collide with a name of its own.
_MARKED_SCHEMA = T.StructType([T.StructField(MARK + n, T.StringType()) for n in c.RAW_FIELD_NAMES])
# The exact path's wrapper ends with this element. Every string of the record is marked, so an
# element that reads back as the bare "#" can only be the wrapper's own.
_SENTINEL = "#"


def _anchored(pattern: str) -> str:
    # Java's $ also matches before a final line break; \z does not.
    return "^(?:" + pattern + r")\z"


def _floor_div(numerator: Column, denominator: int) -> Column:
    # Spark 3.3's Python API has no integer division operator. The double quotient of integers below
    # 2**53 is never rounded across an integer boundary here, so floor() of it is exact.
    return F.floor(numerator / F.lit(float(denominator)))


def _pad(number: Column, width: int) -> Column:
    # lpad instead of format_string: Java's String.format costs microseconds per call.
    return F.lpad(number.cast("string"), width, "0")


def _round_half_up(value: Column, decimals: int) -> Column:
    scale = 10.0**decimals
    return F.floor(value * F.lit(scale) + F.lit(0.5)) / F.lit(scale)


def _valid_utf8(df: DataFrame, data: Column) -> Column:
    """True when the bytes are valid UTF-8, checked without a regex.

    Spark 3.3's decode() replaces invalid sequences, so a round trip changes exactly the invalid
    records; Spark 4's decode() raises instead, and it has is_valid_utf8().
    """
    if int(df.sparkSession.version.split(".")[0]) >= 4:
        return F.call_function("is_valid_utf8", data.cast("string"))
    return F.encode(F.decode(data, "UTF-8"), "UTF-8") == data


def _compact(data: Column) -> Column:
    """Whether a record may take the fast path: its only `{` first and its only `}` last, so the root
    object is the whole text (nothing can trail it); no `[`, so the bracket count is 1; no `\\u`
    escape, so no lone surrogate. Slicing the binary copies bytes (slicing a string walks its
    characters), and contains() filters on the first byte.
    """
    text = data.cast("string")
    middle = data.substr(F.lit(2), F.octet_length(data) - 2).cast("string")
    compact = text.startswith("{") & text.endswith("}")
    for forbidden in ("{", "}", "[", "\\u"):
        compact = compact & ~middle.contains(forbidden)
    return compact


def _exact_document(text: Column) -> Column:
    """The exact path: struct(reason, the root object's known fields as text, strings marked).

    The record is parsed as the first element of `[` + text + `,"#"]`: it is one JSON value exactly
    when the bare sentinel comes back second (a `]` of its own closing the wrapper early would leave
    one of its own, marked, elements last). The root object is then parsed alone.
    """
    marked = F.regexp_replace(text, _STRING_LITERAL, '"' + MARK + "$1" + '"')
    wrapper = F.from_json(
        F.concat(F.lit("["), marked, F.lit(f',"{_SENTINEL}"]')), T.ArrayType(T.StringType()), _JSON_OPTIONS
    )
    single = F.coalesce(wrapper.isNotNull() & (F.size(wrapper) == 2) & (wrapper[1] == _SENTINEL), F.lit(False))
    brackets = F.length(text) - F.length(F.translate(text, "{[", ""))
    lone = F.coalesce(text.contains("\\u") & F.regexp_replace(text, r"\\\\", "").rlike(_LONE_SURROGATE), F.lit(False))
    is_object = F.coalesce(wrapper[0].startswith("{"), F.lit(False))
    reason = F.when(~single | (brackets > c.MAX_BRACKETS) | lone, F.lit(c.NOT_JSON)).when(
        ~is_object, F.lit(c.NOT_OBJECT)
    )
    root = F.from_json(marked, _MARKED_SCHEMA, _JSON_OPTIONS)
    return F.struct(reason.alias("reason"), *[root[MARK + n].alias(n) for n in c.RAW_FIELD_NAMES])


def _field_columns(field: c.Field) -> list[Column]:
    """The JSON type (`_k_`) and value (`_v_`: text of a string, double of a number) of one field,
    from the fast parse or, for the other records, the exact path's."""
    fast = F.col("_c_fast")
    text = F.col("_c_exact")[field.name]
    is_string = text.startswith(MARK)
    structured = text.startswith("{") | text.startswith("[") | text.isin("true", "false")
    is_number = text.isNotNull() & ~is_string & ~structured
    kind = F.when(text.isNull(), MISSING).when(is_string, STRING).when(is_number, NUMBER).otherwise(OTHER)
    if field.name not in NUMERIC_FIELDS:
        # On the fast path a string field is absent or marked (that is what made the record fast): the
        # exact path's type tests run only for the other records.
        parsed = F.col("_c_parsed")[field.name]
        return [
            F.when(fast, F.when(parsed.isNull(), MISSING).otherwise(STRING)).otherwise(kind).alias(f"_k_{field.name}"),
            F.when(fast, parsed.substr(2, c.MAX_EVENT_BYTES))
            .when(is_string, text.substr(2, c.MAX_EVENT_BYTES))
            .alias(f"_v_{field.name}"),
        ]
    number = F.col("_c_parsed")[field.name]
    kind = F.when(fast, F.when(number.isNull(), MISSING).otherwise(NUMBER)).otherwise(kind)
    # Jackson writes a literal beyond the double range as the quoted string "Infinity".
    value = (
        F.when(fast, number)
        .when(is_number & text.startswith('"'), F.lit(float("inf")))
        .when(is_number, text.cast("double"))
    )
    return [kind.alias(f"_k_{field.name}"), value.alias(f"_v_{field.name}")]


def _value_reason(field: c.Field) -> Column:
    """The reason this field's present, non-null value breaks its rule, or null."""
    kind, value = F.col(f"_k_{field.name}"), F.col(f"_v_{field.name}")
    if field.kind in ("string", "enum"):
        if field.kind == "enum":
            bad = ~value.isin(*field.values)
        else:
            # Byte length bounds character length from above: most values never need counting.
            octets = F.octet_length(value)
            bad = (octets < field.min_length) | ((octets > field.max_length) & (F.length(value) > field.max_length))
            if field.pattern:
                bad = bad | ~F.col(f"_m_{field.name}")
        return F.when(kind != STRING, F.lit(c.WRONG_TYPE)).when(bad, F.lit(c.INVALID_VALUE))
    if field.kind in ("number", "integer"):
        ok = ~F.isnan(value) & (value != float("inf")) & (value != float("-inf"))
        if field.minimum is not None:
            ok = ok & (value >= field.minimum)
        if field.maximum is not None:
            ok = ok & (value <= field.maximum)
        reason = F.when(kind != NUMBER, F.lit(c.WRONG_TYPE)).when(~ok, F.lit(c.OUT_OF_RANGE))
        if field.kind == "integer":
            reason = reason.when(value != F.floor(value), F.lit(c.INVALID_VALUE))
        return reason
    if field.kind == "timestamp":
        return F.when(kind != STRING, F.lit(c.WRONG_TYPE)).when(
            ~F.col("_t_valid") | (F.col("_t_ms") < c.MIN_EVENT_TIME_MS), F.lit(c.BAD_TIMESTAMP)
        )
    raise ValueError(f"unknown field kind {field.kind!r}")


def _checks(arrival_ms: str) -> list[tuple[Column, str]]:
    """Every rule after the document's, in the contract's order: (reason or null, field)."""

    def field_reason(field: c.Field) -> Column:
        missing = F.lit(c.MISSING_FIELD) if field.required else F.lit(None).cast("string")
        return F.when(F.col(f"_k_{field.name}") == MISSING, missing).otherwise(_value_reason(field))

    event_type = c.EVENT_TYPE_FIELD
    checks = [(F.when(F.col(f"_k_{event_type.name}") != MISSING, _value_reason(event_type)), event_type.name)]
    checks += [(field_reason(f), f.name) for f in c.COMMON_FIELDS]
    for kind, fields in c.TYPE_FIELDS.items():
        checks += [(F.when(F.col("_c_type") == kind, field_reason(f)), f.name) for f in fields]
    future = F.col("_t_ms") > F.col(arrival_ms) + c.FUTURE_SKEW_MS
    checks.append((F.when(future, F.lit(c.FUTURE_TIMESTAMP)), TIME_FIELD))
    low, high = c.TEMPERATURE_RANGE_C
    too_hot_or_cold = (F.col("_c_type") == c.TELEMETRY) & ~F.col("_c_celsius").between(low, high)
    checks.append((F.when(too_hot_or_cold, F.lit(c.OUT_OF_RANGE)), "temperature"))
    return checks


def _days_from_civil(year: Column, month: Column, day: Column) -> Column:
    # H. Hinnant's days_from_civil, in integer arithmetic.
    y = year - F.when(month <= 2, 1).otherwise(0)
    era = _floor_div(y, 400)
    yoe = y - era * 400
    doy = _floor_div(F.lit(153) * (month + F.when(month > 2, -3).otherwise(9)) + 2, 5) + day - 1
    doe = yoe * 365 + _floor_div(yoe, 4) - _floor_div(yoe, 100) + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: str) -> tuple[Column, Column, Column]:
    # Spark's own calendar (proleptic Gregorian, no time zone) keeps the plan small. `days` is set only
    # for accepted timestamps, which lie far inside the int range that date_from_unix_date takes.
    date = F.expr(f"date_from_unix_date(CAST({days} AS INT))")
    return F.year(date), F.month(date), F.dayofmonth(date)


def _timestamp_components(text: Column, shaped: Column) -> list[Column]:
    """The parts of a contract timestamp string, read only where its shape was checked."""

    def digits(start: int | Column, length: int) -> Column:
        begin = start if isinstance(start, Column) else F.lit(start)
        return F.when(shaped, text.substr(begin, F.lit(length)).cast("int"))

    size = F.length(text)
    utc = text.endswith("Z")
    zone_size = F.when(utc, 1).otherwise(6)
    fraction = F.when(shaped & (text.substr(F.lit(20), F.lit(1)) == "."), text.substr(F.lit(21), size - 20 - zone_size))
    return [
        digits(1, 4).alias("_t_year"),
        digits(6, 2).alias("_t_month"),
        digits(9, 2).alias("_t_day"),
        digits(12, 2).alias("_t_hour"),
        digits(15, 2).alias("_t_minute"),
        digits(18, 2).alias("_t_second"),
        F.coalesce(F.concat(fraction, F.lit("00")).substr(F.lit(1), F.lit(3)).cast("int"), F.lit(0)).alias("_t_milli"),
        F.when(utc, 0).otherwise(digits(size - 4, 2)).alias("_t_zone_hours"),
        F.when(utc, 0).otherwise(digits(size - 1, 2)).alias("_t_zone_minutes"),
        F.when(text.substr(size - 5, F.lit(1)) == "-", -1).otherwise(1).alias("_t_zone_sign"),
    ]


def _timestamp_epoch() -> tuple[Column, Column]:
    """Validity and epoch milliseconds from the `_t_` components."""
    year, month, day = F.col("_t_year"), F.col("_t_month"), F.col("_t_day")
    hour, minute, second = F.col("_t_hour"), F.col("_t_minute"), F.col("_t_second")
    zone_hours, zone_minutes = F.col("_t_zone_hours"), F.col("_t_zone_minutes")
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = F.when(month == 2, F.when(leap, 29).otherwise(28)).when(month.isin(4, 6, 9, 11), 30).otherwise(31)
    valid = F.coalesce(
        F.col("_t_shaped")
        & month.between(1, 12)
        & (day >= 1)
        & (day <= month_days)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (zone_hours <= 23)
        & (zone_minutes <= 59),
        F.lit(False),
    )
    offset = F.col("_t_zone_sign") * (zone_hours * 60 + zone_minutes) * 60000
    days = _days_from_civil(year.cast("long"), month.cast("long"), day.cast("long"))
    epoch = days * MS_PER_DAY + hour * 3600000 + minute * 60000 + second * 1000 + F.col("_t_milli") - offset
    return valid, F.when(valid, epoch)


def _first_failure(checks: list[tuple[Column, str]]) -> Column:
    return F.coalesce(
        *[
            F.when(reason.isNotNull(), F.struct(reason.alias("reason"), F.lit(name).alias("field")))
            for reason, name in checks
        ]
    )


def apply_contract(df: DataFrame, data: str = "data", arrival_ms: str = "arrival_ms") -> DataFrame:
    """Add the contract's verdict and curated fields to a DataFrame of raw records.

    `data` is the binary record and `arrival_ms` its Kinesis arrival time (epoch ms). Adds `status`
    (ok, dropped, failed), `reason`, `reason_field` and the columns of `shared.contract.CURATED_FIELDS`,
    which are null unless status is ok or dropped.
    """
    return contract_stages(df, data, arrival_ms)[-1]


def contract_stages(df: DataFrame, data: str = "data", arrival_ms: str = "arrival_ms") -> list[DataFrame]:
    """The projections of `apply_contract`, in order (the last one is its result).

    A value that later expressions read several times gets a projection of its own: Spark does not
    collapse projections that would duplicate an expensive expression, and does not share one
    between the branches of a CASE WHEN. Each stage carries only what later stages read.
    """
    original = [F.col(name) for name in df.columns]
    raw = F.col(data)
    size = F.coalesce(F.octet_length(raw), F.lit(0))
    usable = F.coalesce(_valid_utf8(df, raw), F.lit(False)) & (size <= c.MAX_EVENT_BYTES)
    stages = [
        df.select(
            *original,
            size.alias("_c_size"),
            usable.alias("_c_usable"),
            (usable & F.coalesce(_compact(raw), F.lit(False))).alias("_c_compact"),
            F.coalesce(raw.cast("string"), F.lit("")).alias("_c_text"),
        )
    ]
    # Marking is a byte-level replace on the fast path; PySpark 3.3 has no function for SQL's replace().
    marked = F.expr(f"replace(replace(_c_text, ':\"', ':\"{MARK}'), ': \"', ': \"{MARK}')")
    parsed = F.from_json(marked, _FAST_SCHEMA, _FAST_OPTIONS)
    stages.append(
        stages[-1].select(
            *original, "_c_size", "_c_usable", "_c_text", F.when(F.col("_c_compact"), parsed).alias("_c_parsed")
        )
    )
    # Marking by replace() misses a string value spaced otherwise than `:"` or `: "`, and mis-marks one
    # whose content ends with `:` (which breaks the JSON). So the fast path accepts a record only when
    # it parsed cleanly and every string field present came back marked; the rest go to the exact
    # path, which decides (a number where a string belongs, say).
    parsed = F.col("_c_parsed")
    fast = parsed.isNotNull() & parsed["_corrupt"].isNull()
    for name in c.RAW_FIELD_NAMES:
        if name not in NUMERIC_FIELDS:
            fast = fast & (parsed[name].isNull() | parsed[name].startswith(MARK))
    fast = F.coalesce(fast, F.lit(False))
    stages.append(
        stages[-1].select(
            *original,
            "_c_size",
            "_c_usable",
            "_c_parsed",
            fast.alias("_c_fast"),
            F.when(~fast & F.col("_c_usable"), _exact_document(F.col("_c_text"))).alias("_c_exact"),
        )
    )
    doc_reason = (
        F.when(F.substring(raw, 1, len(c.KPL_MAGIC)) == F.lit(bytearray(c.KPL_MAGIC)), F.lit(c.KPL_AGGREGATE))
        .when(F.col("_c_size") > c.MAX_EVENT_BYTES, F.lit(c.TOO_LARGE))
        .when(~F.col("_c_usable"), F.lit(c.NOT_UTF8))
        .when(~F.col("_c_fast"), F.col("_c_exact.reason"))
    )
    fields = [column for field in ALL_FIELDS for column in _field_columns(field)]
    stages.append(stages[-1].select(*original, doc_reason.alias("_c_doc_reason"), *fields))

    # Values read by several rules, and the two regexes, computed once.
    kinds = [F.col(f"_{prefix}_{f.name}") for f in ALL_FIELDS for prefix in "kv"]
    fahrenheit = F.col("_v_temperature")
    celsius = F.when(F.col("_v_temperature_unit") == "F", (fahrenheit - F.lit(32.0)) * F.lit(5.0) / F.lit(9.0))
    time_text = F.col(f"_v_{TIME_FIELD}")
    patterns = [
        F.col(f"_v_{f.name}").rlike(_anchored(f.pattern)).alias(f"_m_{f.name}") for f in ALL_FIELDS if f.pattern
    ]
    stages.append(
        stages[-1].select(
            *original,
            "_c_doc_reason",
            *kinds,
            F.coalesce(F.col(f"_v_{c.EVENT_TYPE_FIELD.name}"), F.lit(c.DEFAULT_EVENT_TYPE)).alias("_c_type"),
            celsius.otherwise(fahrenheit).alias("_c_celsius"),
            F.coalesce(time_text.rlike(_anchored(c.TIMESTAMP_PATTERN)), F.lit(False)).alias("_t_shaped"),
            *patterns,
        )
    )
    carry = [
        *original,
        "_c_doc_reason",
        *kinds,
        "_c_type",
        "_c_celsius",
        *[f"_m_{f.name}" for f in ALL_FIELDS if f.pattern],
    ]
    stages.append(stages[-1].select(*carry, "_t_shaped", *_timestamp_components(time_text, F.col("_t_shaped"))))
    valid, epoch = _timestamp_epoch()
    stages.append(stages[-1].select(*carry, valid.alias("_t_valid"), epoch.alias("_t_ms")))

    # Every row needs only "did a rule fail"; the first failing rule, a struct, is built for the
    # failed rows alone, in a lazily evaluated branch.
    checks = _checks(arrival_ms)
    stages.append(
        stages[-1].select(
            *carry, "_t_valid", "_t_ms", *[reason.alias(f"_e_{i}") for i, (reason, _) in enumerate(checks)]
        )
    )
    passed = F.col("_c_doc_reason").isNull()
    for i in range(len(checks)):
        passed = passed & F.col(f"_e_{i}").isNull()
    failure = F.when(
        ~passed & F.col("_c_doc_reason").isNull(),
        _first_failure([(F.col(f"_e_{i}"), name) for i, (_, name) in enumerate(checks)]),
    )
    stages.append(stages[-1].select(*carry, "_t_valid", "_t_ms", passed.alias("_c_passed"), failure.alias("_c_fail")))
    failure = F.col("_c_fail")
    status = F.when(~F.col("_c_passed"), F.lit(c.FAILED))
    for event_kind, outcome in c.OUTCOME_BY_TYPE.items():
        status = status.when(F.col("_c_type") == event_kind, F.lit(outcome))
    kept = F.col("_c_passed")
    millis = F.when(kept, F.col("_t_ms"))
    days = _floor_div(millis, MS_PER_DAY)
    values = ["_v_event_id", "_v_device_id", "_c_type", "_v_sent_at_ms", "_c_celsius", "_v_humidity"]
    values += ["_v_battery", "_v_firmware", "_v_action"]
    stages.append(
        stages[-1].select(
            *original,
            *values,
            "_c_doc_reason",
            "_c_fail",
            status.alias("_c_status"),
            millis.alias("_d_ms"),
            days.alias("_d_days"),
            (millis - days * MS_PER_DAY).alias("_d_rest"),
        )
    )
    year, month, day = _civil_from_days("_d_days")
    rest = F.col("_d_rest")
    hour = _floor_div(rest, 3_600_000)
    minute = _floor_div(rest - hour * 3_600_000, 60_000)
    second = _floor_div(rest - hour * 3_600_000 - minute * 60_000, 1000)
    milli = rest - hour * 3_600_000 - minute * 60_000 - second * 1000
    stages.append(
        stages[-1].select(
            *original,
            *values,
            "_c_doc_reason",
            "_c_fail",
            "_c_status",
            "_d_ms",
            # Built once here: event_time and event_date both hold it, under conditions that keep Spark
            # from sharing one computation between them.
            F.concat(_pad(year, 4), F.lit("-"), _pad(month, 2), F.lit("-"), _pad(day, 2)).alias("_d_date"),
            hour.alias("_d_hour"),
            minute.alias("_d_minute"),
            second.alias("_d_second"),
            milli.alias("_d_milli"),
        )
    )

    kept = F.col("_c_status") != c.FAILED
    telemetry = kept & (F.col("_c_type") == c.TELEMETRY)
    temperature_c = _round_half_up(F.col("_c_celsius"), c.DECIMALS["temperature_c"])
    date = F.col("_d_date")
    clock = [F.lit("T"), _pad(F.col("_d_hour"), 2), F.lit(":"), _pad(F.col("_d_minute"), 2), F.lit(":")]
    clock += [_pad(F.col("_d_second"), 2), F.lit("."), _pad(F.col("_d_milli"), 3), F.lit("Z")]
    curated = {
        "event_id": F.col("_v_event_id"),
        "device_id": F.col("_v_device_id"),
        "event_type": F.col("_c_type"),
        "event_time": F.concat(date, *clock),
        "event_time_ms": F.col("_d_ms"),
        "event_date": date,
        "event_hour": F.col("_d_hour"),
        "sent_at_ms": F.col("_v_sent_at_ms"),
        "temperature_c": F.when(telemetry, temperature_c),
        "humidity_pct": F.when(telemetry, _round_half_up(F.col("_v_humidity"), c.DECIMALS["humidity_pct"])),
        "battery_pct": F.when(telemetry, _round_half_up(F.col("_v_battery"), c.DECIMALS["battery_pct"])),
        "firmware": F.when(telemetry, F.col("_v_firmware")),
        "alert": F.when(telemetry, temperature_c >= c.ALERT_THRESHOLD_C),
        "action": F.when(kept & (F.col("_c_type") == c.MAINTENANCE), F.col("_v_action")),
    }
    stages.append(
        stages[-1].select(
            *original,
            F.col("_c_status").alias("status"),
            F.coalesce(F.col("_c_doc_reason"), F.col("_c_fail.reason")).alias("reason"),
            F.col("_c_fail.field").alias("reason_field"),
            *[F.when(kept, curated[name]).cast(kind).alias(name) for name, kind in c.CURATED_FIELDS],
        )
    )
    return stages
