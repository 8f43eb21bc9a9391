package runbook

import (
	"errors"
	"fmt"

	toml2 "github.com/pelletier/go-toml/v2"
)

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
