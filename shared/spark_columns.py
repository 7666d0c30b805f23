"""The contract as native Spark Column expressions: what the Glue job runs.

`apply_contract(df)` adds the verdict and the curated fields to a DataFrame of raw records. Nothing
here is a Python UDF: every rule compiles to Catalyst expressions, so Glue pays JVM speed.

Spark's JSON reader (Jackson) is more lenient than the contract: it ignores bytes after the first
value, accepts lone surrogate escapes and decodes invalid UTF-8 with replacement, and, reading a field
as a string, cannot tell the string "12" from the number 12. Each gap is closed natively:

- UTF-8: re-encoding the decoded text changes the bytes exactly when they were not valid UTF-8;
- types: every string literal is prefixed with a marker before parsing, so a string field reads back
  as "~12" and a number as "12";
- trailing data and nesting depth: a scan of the brackets outside string literals (string literals
  blanked first) with `aggregate`;
- lone surrogates: a regex over the escapes, after removing escaped backslashes.

Uses only Spark 3.3 APIs (AWS Glue 4.0) and behaves the same under Spark 4's ANSI mode: every cast
that could fail is guarded by the condition that makes it safe.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from shared import contract as c

MARK = "~"
_STRING_LITERAL = r'(?s)"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
_JSON_WS = "[ \t\n\r]"
_LONE_SURROGATE = (
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": "_corrupt",
    "allowNonNumericNumbers": "false",
    "allowSingleQuotes": "false",
    "allowUnquotedControlChars": "false",
    "allowBackslashEscapingAnyCharacter": "false",
    "allowNumericLeadingZeros": "false",
    "allowComments": "false",
    "allowUnquotedFieldNames": "false",
}
_DOC_SCHEMA = T.StructType(
    [T.StructField(MARK + name, T.StringType()) for name in c.RAW_FIELD_NAMES]
    + [T.StructField("_corrupt", T.StringType())]
)
_ROOT = MARK + "#"
_WRAPPED_SCHEMA = T.StructType(
    [T.StructField(_ROOT, T.StringType()), T.StructField("_corrupt", T.StringType())]
)
MS_PER_DAY = 86_400_000


def _anchored(pattern: str) -> str:
    # Java's $ also matches before a final line break; \z does not.
    return "^(?:" + pattern + r")\z"


def _floor_div(numerator: Column, denominator: int) -> Column:
    # Spark 3.3's Python API has no integer division operator. The double quotient of integers below
    # 2**53 is never rounded across an integer boundary here, so floor() of it is exact.
    return F.floor(numerator / F.lit(float(denominator)))


def _bracket_scan(brackets: Column) -> Column:
    """Running depth over a string of brackets: end depth, times it returned to 0, min and max."""

    def step(acc: Column, ch: Column) -> Column:
        delta = F.when(ch.isin("{", "["), 1).when(ch.isin("}", "]"), -1).otherwise(0)
        depth = acc["depth"] + delta
        return F.struct(
            depth.alias("depth"),
            (acc["zeros"] + F.when((delta != 0) & (depth == 0), 1).otherwise(0)).alias("zeros"),
            F.least(acc["low"], depth).alias("low"),
            F.greatest(acc["high"], depth).alias("high"),
        )

    start = F.struct(
        F.lit(0).alias("depth"), F.lit(0).alias("zeros"), F.lit(0).alias("low"), F.lit(0).alias("high")
    )
    return F.aggregate(F.split(brackets, ""), start, step)


def _kind_columns(name: str) -> list[Column]:
    """The JSON type of one raw field as the marked parse returns it, and its string and number value."""
    text = F.col("_c_doc")[MARK + name]
    is_string = text.startswith(MARK)
    structured = text.startswith("{") | text.startswith("[") | text.isin("true", "false")
    is_number = text.isNotNull() & ~is_string & ~structured
    # Jackson writes a literal beyond the double range as the quoted string "Infinity".
    number = F.when(is_number & text.startswith('"'), F.lit(float("inf"))).when(
        is_number, text.cast("double")
    )
    kind = (
        F.when(text.isNull(), "missing")
        .when(is_string, "string")
        .when(is_number, "number")
        .otherwise("other")
    )
    return [
        kind.alias(f"_k_{name}"),
        F.when(is_string, text.substr(F.lit(2), F.length(text))).alias(f"_s_{name}"),
        number.alias(f"_n_{name}"),
    ]


def _value_reason(field: c.Field) -> Column:
    """The reason this field's present, non-null value breaks its rule, or null."""
    kind, text, number = F.col(f"_k_{field.name}"), F.col(f"_s_{field.name}"), F.col(f"_n_{field.name}")
    if field.kind in ("string", "enum"):
        if field.kind == "enum":
            bad = ~text.isin(*field.values)
        else:
            length = F.length(text)
            bad = (length < field.min_length) | (length > field.max_length)
            if field.pattern:
                bad = bad | ~text.rlike(_anchored(field.pattern))
        return F.when(kind != "string", F.lit(c.WRONG_TYPE)).when(bad, F.lit(c.INVALID_VALUE))
    if field.kind in ("number", "integer"):
        ok = ~F.isnan(number) & (number != float("inf")) & (number != float("-inf"))
        if field.minimum is not None:
            ok = ok & (number >= field.minimum)
        if field.maximum is not None:
            ok = ok & (number <= field.maximum)
        reason = F.when(kind != "number", F.lit(c.WRONG_TYPE)).when(~ok, F.lit(c.OUT_OF_RANGE))
        if field.kind == "integer":
            reason = reason.when(number != F.floor(number), F.lit(c.INVALID_VALUE))
        return reason
    if field.kind == "timestamp":
        return F.when(kind != "string", F.lit(c.WRONG_TYPE)).when(
            ~F.col("_t_valid") | (F.col("_t_ms") < c.MIN_EVENT_TIME_MS), F.lit(c.BAD_TIMESTAMP)
        )
    raise ValueError(f"unknown field kind {field.kind!r}")


def _field_reason(field: c.Field) -> Column:
    missing = F.lit(c.MISSING_FIELD) if field.required else F.lit(None).cast("string")
    return F.when(F.col(f"_k_{field.name}") == "missing", missing).otherwise(_value_reason(field))


def _days_from_civil(year: Column, month: Column, day: Column) -> Column:
    # H. Hinnant's days_from_civil, in integer arithmetic.
    y = year - F.when(month <= 2, 1).otherwise(0)
    era = _floor_div(y, 400)
    yoe = y - era * 400
    doy = _floor_div(F.lit(153) * (month + F.when(month > 2, -3).otherwise(9)) + 2, 5) + day - 1
    doe = yoe * 365 + _floor_div(yoe, 4) - _floor_div(yoe, 100) + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: Column) -> tuple[Column, Column, Column]:
    z = days + 719468
    era = _floor_div(z, 146097)
    doe = z - era * 146097
    yoe = _floor_div(doe - _floor_div(doe, 1460) + _floor_div(doe, 36524) - _floor_div(doe, 146096), 365)
    doy = doe - (yoe * 365 + _floor_div(yoe, 4) - _floor_div(yoe, 100))
    mp = _floor_div(doy * 5 + 2, 153)
    day = doy - _floor_div(mp * 153 + 2, 5) + 1
    month = F.when(mp < 10, mp + 3).otherwise(mp - 9)
    year = yoe + era * 400 + F.when(month <= 2, 1).otherwise(0)
    return year, month, day


def _timestamp_parts(text: Column) -> dict[str, Column]:
    """Validity and epoch milliseconds of a contract timestamp string (null-safe, never raises)."""
    shaped = F.coalesce(text.rlike(_anchored(c.TIMESTAMP_PATTERN)), F.lit(False))

    def digits(start: int | Column, length: int) -> Column:
        begin = start if isinstance(start, Column) else F.lit(start)
        return F.when(shaped, text.substr(begin, F.lit(length)).cast("int"))

    year, month, day = digits(1, 4), digits(6, 2), digits(9, 2)
    hour, minute, second = digits(12, 2), digits(15, 2), digits(18, 2)
    size = F.length(text)
    utc = text.endswith("Z")
    zone_size = F.when(utc, 1).otherwise(6)
    fraction = F.when(
        shaped & (text.substr(F.lit(20), F.lit(1)) == "."), text.substr(F.lit(21), size - 20 - zone_size)
    )
    millis = F.coalesce(F.concat(fraction, F.lit("00")).substr(F.lit(1), F.lit(3)).cast("int"), F.lit(0))
    zone_hours = F.when(utc, 0).otherwise(digits(size - 4, 2))
    zone_minutes = F.when(utc, 0).otherwise(digits(size - 1, 2))
    zone_sign = F.when(text.substr(size - 5, F.lit(1)) == "-", -1).otherwise(1)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = (
        F.when(month == 2, F.when(leap, 29).otherwise(28)).when(month.isin(4, 6, 9, 11), 30).otherwise(31)
    )
    valid = shaped & (
        month.between(1, 12)
        & (day >= 1)
        & (day <= month_days)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (zone_hours <= 23)
        & (zone_minutes <= 59)
    )
    offset = zone_sign * (zone_hours * 60 + zone_minutes) * 60000
    days = _days_from_civil(year.cast("long"), month.cast("long"), day.cast("long"))
    epoch = days * MS_PER_DAY + hour * 3600000 + minute * 60000 + second * 1000 + millis - offset
    return {"valid": F.coalesce(valid, F.lit(False)), "ms": F.when(valid, epoch)}


def _round_half_up(value: Column, decimals: int) -> Column:
    scale = 10.0**decimals
    return F.floor(value * F.lit(scale) + F.lit(0.5)) / F.lit(scale)


def _document_columns(data: Column) -> list[Column]:
    text = data.cast("string")
    marked = F.regexp_replace(text, _STRING_LITERAL, '"' + MARK + "$1" + '"')
    blanked = F.regexp_replace(text, _STRING_LITERAL, '""')
    return [
        F.coalesce(F.octet_length(data), F.lit(0)).alias("_c_size"),
        (F.regexp_replace(text, "$^", "") == text).alias("_c_utf8"),
        F.coalesce(text, F.lit("")).alias("_c_text"),
        marked.alias("_c_marked"),
        F.regexp_replace(blanked, r"[^\[\]{}]", "").alias("_c_brackets"),
        F.regexp_replace(text, "^" + _JSON_WS + "+", "").substr(F.lit(1), F.lit(1)).alias("_c_first"),
    ]


def _document_reason(df: DataFrame) -> DataFrame:
    is_object = F.col("_c_first") == "{"
    doc = F.when(is_object & F.col("_c_utf8"), F.from_json("_c_marked", _DOC_SCHEMA, _JSON_OPTIONS))
    wrapped = F.when(
        ~is_object & F.col("_c_utf8"),
        F.from_json(
            F.concat(F.lit('{"' + _ROOT + '":'), "_c_marked", F.lit("}")), _WRAPPED_SCHEMA, _JSON_OPTIONS
        ),
    )
    df = df.select(
        "*",
        doc.alias("_c_doc"),
        wrapped.alias("_c_wrapped"),
        _bracket_scan(F.col("_c_brackets")).alias("_c_scan"),
        F.when(F.instr("_c_text", "\\u") > 0, F.regexp_replace("_c_text", r"\\\\", "").rlike(_LONE_SURROGATE))
        .otherwise(F.lit(False))
        .alias("_c_lone"),
    )
    scan = F.col("_c_scan")
    object_ok = (
        F.col("_c_doc").isNotNull()
        & F.col("_c_doc._corrupt").isNull()
        & F.col("_c_text").rlike(r"\}" + _JSON_WS + r"*\z")
        & (scan["zeros"] == 1)
        & (scan["depth"] == 0)
    )
    other_ok = F.col("_c_wrapped").isNotNull() & F.col("_c_wrapped._corrupt").isNull() & (scan["low"] >= 0)
    syntax_ok = (
        F.when(is_object, object_ok).otherwise(other_ok)
        & (scan["high"] <= c.MAX_JSON_DEPTH)
        & ~F.col("_c_lone")
    )
    reason = (
        F.when(F.col("_c_size") > c.MAX_EVENT_BYTES, F.lit(c.TOO_LARGE))
        .when(~F.col("_c_utf8"), F.lit(c.NOT_UTF8))
        .when(~syntax_ok, F.lit(c.NOT_JSON))
        .when(~is_object, F.lit(c.NOT_OBJECT))
    )
    return df.select("*", reason.alias("_c_doc_reason"))


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

    Each stage is its own projection: an intermediate value used several times is computed once
    (Spark does not collapse projections that would duplicate it), and every generated method stays
    within the JVM's 64 KB limit, so whole-stage code generation applies.
    """
    original = df.columns
    staged = _document_reason(df.select("*", *_document_columns(F.col(data))))
    staged = staged.select("*", *[col for name in c.RAW_FIELD_NAMES for col in _kind_columns(name)])

    time_field = next(f for f in c.COMMON_FIELDS if f.kind == "timestamp")
    parts = _timestamp_parts(F.col(f"_s_{time_field.name}"))
    fahrenheit = F.col("_n_temperature")
    celsius = F.when(
        F.col("_s_temperature_unit") == "F", (fahrenheit - F.lit(32.0)) * F.lit(5.0) / F.lit(9.0)
    ).otherwise(fahrenheit)
    staged = staged.select(
        "*",
        F.coalesce(F.col(f"_s_{c.EVENT_TYPE_FIELD.name}"), F.lit(c.DEFAULT_EVENT_TYPE)).alias("_c_type"),
        parts["valid"].alias("_t_valid"),
        parts["ms"].alias("_t_ms"),
        celsius.alias("_c_celsius"),
    )

    event_type_name = c.EVENT_TYPE_FIELD.name
    checks: list[tuple[Column, str]] = [
        (
            F.when(F.col(f"_k_{event_type_name}") != "missing", _value_reason(c.EVENT_TYPE_FIELD)),
            event_type_name,
        )
    ]
    checks += [(_field_reason(f), f.name) for f in c.COMMON_FIELDS]
    for kind, fields in c.TYPE_FIELDS.items():
        checks += [(F.when(F.col("_c_type") == kind, _field_reason(f)), f.name) for f in fields]
    low, high = c.TEMPERATURE_RANGE_C
    checks.append(
        (
            F.when(F.col("_t_ms") > F.col(arrival_ms) + c.FUTURE_SKEW_MS, F.lit(c.FUTURE_TIMESTAMP)),
            time_field.name,
        )
    )
    checks.append(
        (
            F.when(
                (F.col("_c_type") == c.TELEMETRY) & ~F.col("_c_celsius").between(low, high),
                F.lit(c.OUT_OF_RANGE),
            ),
            "temperature",
        )
    )
    staged = staged.select(
        "*", F.when(F.col("_c_doc_reason").isNull(), _first_failure(checks)).alias("_c_fail")
    )

    failed = F.col("_c_doc_reason").isNotNull() | F.col("_c_fail").isNotNull()
    status = F.when(failed, F.lit(c.FAILED))
    for event_kind, outcome in c.OUTCOME_BY_TYPE.items():
        status = status.when(F.col("_c_type") == event_kind, F.lit(outcome))
    staged = staged.select("*", status.alias("_c_status"))

    kept = F.col("_c_status") != c.FAILED
    millis = F.when(kept, F.col("_t_ms"))
    days = _floor_div(millis, MS_PER_DAY)
    rest = millis - days * MS_PER_DAY
    staged = staged.select("*", days.alias("_d_days"), rest.alias("_d_rest"))
    year, month, day = _civil_from_days(F.col("_d_days"))
    rest = F.col("_d_rest")
    hour = _floor_div(rest, 3_600_000)
    minute = _floor_div(rest - hour * 3_600_000, 60_000)
    second = _floor_div(rest - hour * 3_600_000 - minute * 60_000, 1000)
    milli = rest - hour * 3_600_000 - minute * 60_000 - second * 1000
    staged = staged.select(
        "*",
        year.alias("_d_year"),
        month.alias("_d_month"),
        day.alias("_d_day"),
        hour.alias("_d_hour"),
        minute.alias("_d_minute"),
        second.alias("_d_second"),
        milli.alias("_d_milli"),
    )

    telemetry = kept & (F.col("_c_type") == c.TELEMETRY)
    temperature_c = _round_half_up(F.col("_c_celsius"), c.DECIMALS["temperature_c"])
    ymd = [F.col("_d_year"), F.col("_d_month"), F.col("_d_day")]
    hms = [F.col("_d_hour"), F.col("_d_minute"), F.col("_d_second"), F.col("_d_milli")]
    values = {
        "event_id": F.col("_s_event_id"),
        "device_id": F.col("_s_device_id"),
        "event_type": F.col("_c_type"),
        "event_time": F.format_string("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", *ymd, *hms),
        "event_time_ms": millis,
        "event_date": F.format_string("%04d-%02d-%02d", *ymd),
        "event_hour": F.col("_d_hour"),
        "sent_at_ms": F.col("_n_sent_at_ms"),
        "temperature_c": F.when(telemetry, temperature_c),
        "humidity_pct": F.when(telemetry, _round_half_up(F.col("_n_humidity"), c.DECIMALS["humidity_pct"])),
        "battery_pct": F.when(telemetry, _round_half_up(F.col("_n_battery"), c.DECIMALS["battery_pct"])),
        "firmware": F.when(telemetry, F.col("_s_firmware")),
        "alert": F.when(telemetry, temperature_c >= c.ALERT_THRESHOLD_C),
        "action": F.when(kept & (F.col("_c_type") == c.MAINTENANCE), F.col("_s_action")),
    }
    curated = [F.when(kept, values[name]).cast(kind).alias(name) for name, kind in c.CURATED_FIELDS]
    return staged.select(
        *[F.col(name) for name in original],
        F.col("_c_status").alias("status"),
        F.coalesce(F.col("_c_doc_reason"), F.col("_c_fail.reason")).alias("reason"),
        F.col("_c_fail.field").alias("reason_field"),
        *curated,
    )
