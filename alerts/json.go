package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// decode reads body, one JSON value, into v. With strict, a field v does not
// know is an error (our own generic format); the sources' formats grow, so
// their payloads may carry fields we do not read. Errors are *InputError
// naming the field when the decoder knows it.
func decode(source string, body []byte, v any, strict bool, what string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &InputError{Source: source, Field: "body", Msg: "empty; send " + what}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return &InputError{Source: source, Field: "body", Msg: "more than one JSON value; send " + what}
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return &InputError{Source: source, Field: "body",
			Msg: fmt.Sprintf("not JSON (%s at byte %d); send %s", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset, what)}
	case errors.As(err, &typ):
		field := truncate(cleanLine(typ.Field), MaxName)
		if field == "" {
			field = "body"
		}
		return &InputError{Source: source, Field: field,
			Msg: fmt.Sprintf("is a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &InputError{Source: source, Field: "body", Msg: "JSON ends early (cut off?); send " + what}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &InputError{Source: source, Field: truncate(cleanLine(name), MaxName),
			Msg: "not a field of the " + what}
	}
	return &InputError{Source: source, Field: "body", Msg: truncate(cleanLine(strings.TrimPrefix(err.Error(), "json: ")), MaxText) + "; send " + what}
}

// jsonKind names a Go type the way a sender thinks of JSON.
func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "map["):
		return "an object of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"), goType == "json.Number":
		return "a number"
	case goType == "bool":
		return "true or false"
	}
	return "an object"
}

// parseTime reads an RFC 3339 time; "" and Go's zero time (Alertmanager's
// "0001-01-01T00:00:00Z" for "unset") are the zero time.
func parseTime(source, field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &InputError{Source: source, Field: field,
			Msg: fmt.Sprintf("%s is not an RFC 3339 time such as 2026-11-26T02:00:00Z", quote(s))}
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t, nil
}
