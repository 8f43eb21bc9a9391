package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	toml2 "github.com/pelletier/go-toml/v2"
)

// MaxEventFile is the largest event file the store writes or reads. An
// event this tool writes is a few hundred bytes (a failed delivery's error
// is capped at 1 KiB, a responder's RFO is text); a bigger file in a
// records folder came from elsewhere (a teammate's sync, a hostile commit).
const MaxEventFile = 256 << 10

// Limits on an event file's shape, checked before the TOML decoder sees it:
// deeply nested arrays or inline tables overflow the decoder's stack (a
// crash no recover can catch), and long dotted keys take it time that grows
// with the square of their length. Events this tool writes nest two deep.
const (
	maxEventNesting = 32 // arrays and inline tables inside each other
	maxEventKeyDots = 32 // parts of one dotted key or table header
)

// decodeEventFile reads one event file: its size and shape are checked
// first (see MaxEventFile, maxEventNesting), then it is decoded. Every error
// names the file and what to do.
func decodeEventFile(path string) (Event, error) {
	e, _, err := readEventFile(path)
	return e, err
}

// readEventFile is decodeEventFile that also returns the file's size (the
// bytes read), for the record's digest (see Store.Digest).
func readEventFile(path string) (Event, int64, error) {
	var e Event
	src, err := readLimited(path, MaxEventFile)
	if err != nil {
		return e, 0, err
	}
	if len(src) > MaxEventFile {
		return e, 0, fmt.Errorf("%s is larger than %d KiB, which no event of this tool is: it did not come from incident; move it out of the folder", path, MaxEventFile>>10)
	}
	if err := checkEventShape(src); err != nil {
		return e, 0, fmt.Errorf("%s: %v, which no event of this tool is: it did not come from incident; move it out of the folder", path, err)
	}
	if err := decodeEvent(src, &e); err != nil {
		return e, 0, fmt.Errorf("%s: %v; the event file is damaged: restore it from git or a backup, or move it out of the folder", path, err)
	}
	return e, int64(len(src)), nil
}

// checkEncodedEvent refuses to write an event that the store could not
// read back: too large, or holding text that is not UTF-8 (TOML is).
func checkEncodedEvent(kind EventKind, b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("the %s event holds text that is not valid UTF-8 (typed in a terminal or read from a file in another encoding?): nothing was written; give the text in UTF-8", kind)
	}
	if len(b) > MaxEventFile {
		return fmt.Errorf("the %s event is %d KiB, over the %d KiB an event may hold: shorten the text", kind, len(b)>>10, MaxEventFile>>10)
	}
	return nil
}

// checkEventShape scans TOML source, skipping strings and comments, for
// arrays and inline tables nested more than maxEventNesting deep and for
// keys or table headers of more than maxEventKeyDots parts. It follows just
// enough of TOML to tell keys from values; anything it cannot follow is
// left to the decoder, which reports it.
func checkEventShape(src []byte) error {
	var stack []byte // open '[' (arrays) and '{' (inline tables) of a value
	key := true      // reading a key: at the start of a top-level line, or after '{' or ',' in an inline table
	header := false  // inside a [table] or [[table]] header
	started := false // the current key or line has a character other than space
	dots := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			if len(stack) == 0 {
				key, header, started, dots = true, false, false, 0
			}
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
				i += j - 1
			} else {
				i = len(src)
			}
			continue
		case '"', '\'':
			end, ok := skipString(src, i)
			if !ok {
				return nil // unterminated: the decoder says where
			}
			i, started = end, true
			continue
		}
		switch {
		case header:
			switch c {
			case '.':
				if dots++; dots > maxEventKeyDots {
					return errors.New("a table header has too many parts")
				}
			case ']':
				header = false
			}
		case key:
			switch {
			case c == '[' && !started && len(stack) == 0:
				header = true
			case c == '.':
				if dots++; dots > maxEventKeyDots {
					return errors.New("a key has too many parts")
				}
			case c == '=':
				key, dots = false, 0
			case c == '}' && len(stack) > 0 && stack[len(stack)-1] == '{':
				stack, key = stack[:len(stack)-1], false // {} or a trailing comma
			}
			started = true
		default:
			switch c {
			case '[', '{':
				if stack = append(stack, c); len(stack) > maxEventNesting {
					return fmt.Errorf("arrays or tables are nested more than %d deep", maxEventNesting)
				}
				if c == '{' {
					key, dots = true, 0
				}
			case ']', '}':
				if len(stack) == 0 {
					return nil // unbalanced: the decoder says where
				}
				stack = stack[:len(stack)-1]
			case ',':
				if len(stack) > 0 && stack[len(stack)-1] == '{' {
					key, dots = true, 0
				}
			}
		}
	}
	return nil
}

// skipString returns the index of the quote that ends the string starting
// at src[i] (basic or literal, one line or multi-line), or false when it
// does not end.
func skipString(src []byte, i int) (int, bool) {
	q := src[i]
	triple := strings.Repeat(string(q), 3)
	if bytes.HasPrefix(src[i:], []byte(triple)) {
		for j := i + 3; j < len(src); j++ {
			switch {
			case q == '"' && src[j] == '\\':
				j++
			case bytes.HasPrefix(src[j:], []byte(triple)):
				// Up to two more quotes may end the string's content.
				end := j + 2
				for end+1 < len(src) && src[end+1] == q && end-j < 4 {
					end++
				}
				return end, true
			}
		}
		return 0, false
	}
	for j := i + 1; j < len(src); j++ {
		switch {
		case src[j] == '\n':
			return 0, false
		case q == '"' && src[j] == '\\':
			j++
		case src[j] == q:
			return j, true
		}
	}
	return 0, false
}

// decodeEvent decodes the content of one event file into e.
//
// Event files are written with BurntSushi/toml's encoder (Store.Append) and
// read with github.com/pelletier/go-toml/v2, which decodes them several
// times faster: a site build reads every event file on record (42,000 for
// 2,000 incidents of 10 updates). The two agree on everything the encoder
// writes, old records included (TestEventFilesBothDecoders); BurntSushi
// stays for incident.toml, whose strict keys and line-and-column errors
// users see. Unknown keys are ignored, as before, so a record written by a
// newer version still loads.
func decodeEvent(src []byte, e *Event) error {
	err := toml2.Unmarshal(src, e)
	var de *toml2.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return fmt.Errorf("line %d, column %d: %v", line, col, de)
	}
	return err
}

// notRegular is the error for an event file that is a symlink, a FIFO or a
// device: what it points at or would produce is never read.
func notRegular(path, what string) error {
	return fmt.Errorf("%s is %s, which no event of this tool is: it did not come from incident; move it out of the folder", path, what)
}
