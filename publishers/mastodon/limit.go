package mastodon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// LimitTTL is how long the instance's limits, once read, are kept in the
// state directory and used without asking the instance again. Every publish
// renders (and checks lengths) before it posts; asking the instance first
// would cost a round trip each time. Instances rarely change their limit:
// `incident doctor --online` reads it again, and so does a post the
// instance refuses as too long.
const LimitTTL = 30 * 24 * time.Hour

// limits is the state file's content.
type limits struct {
	MaxCharacters int       `json:"max_characters"`
	URLLength     int       `json:"characters_reserved_per_url"`
	Read          time.Time `json:"read"`
}

// limitFile is where this instance's limits are kept, or "" without a
// state directory.
func (p *Publisher) limitFile() string {
	if p.env.StateDir == "" {
		return ""
	}
	h := sha256.Sum256([]byte(p.base.String()))
	return filepath.Join(p.env.StateDir, "mastodon-limits-"+hex.EncodeToString(h[:8])+".json")
}

// LoadLimit learns the instance's status limit and URL length: from the
// state directory when they were read there less than LimitTTL ago, else
// from GET /api/v2/instance (configuration.statuses), which needs no
// credentials and waits at most a few seconds, and is then kept there. The
// runbook calls it before rendering; after one success it does nothing.
// When the instance cannot be reached (or predates Mastodon 4.0), Length
// keeps Mastodon's defaults, 500 characters and 23 per URL, and the next
// call tries again.
func (p *Publisher) LoadLimit(ctx context.Context) {
	p.limitMu.Lock()
	loaded := p.loaded
	p.limitMu.Unlock()
	if loaded {
		return
	}
	if l, ok := p.keptLimits(); ok {
		p.setLimits(l)
		return
	}
	_ = p.refreshLimit(ctx)
}

// keptLimits reads the state file; ok is false when there is none, it is
// unusable, or it is older than LimitTTL (or from the future).
func (p *Publisher) keptLimits() (limits, bool) {
	path := p.limitFile()
	if path == "" {
		return limits{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return limits{}, false
	}
	var l limits
	if json.Unmarshal(b, &l) != nil || l.MaxCharacters <= 0 {
		return limits{}, false
	}
	age := p.env.Now().Sub(l.Read)
	return l, age >= -time.Hour && age < LimitTTL
}

func (p *Publisher) setLimits(l limits) {
	p.limitMu.Lock()
	defer p.limitMu.Unlock()
	p.limit, p.loaded = l.MaxCharacters, true
	if l.URLLength > 0 {
		p.urlLen = l.URLLength
	}
}

// refreshLimit reads the instance's limits now and keeps them.
func (p *Publisher) refreshLimit(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, limitTimeout)
	defer cancel()
	var inst struct {
		Configuration struct {
			Statuses struct {
				MaxCharacters            int `json:"max_characters"`
				CharactersReservedPerURL int `json:"characters_reserved_per_url"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	cl := publishers.Client{HTTP: p.env.HTTP, UserAgent: p.env.UserAgent, Now: p.env.Now}
	if _, err := cl.Do(ctx, "read the instance's limits", http.MethodGet, p.base.JoinPath("/api/v2/instance").String(), nil, &inst); err != nil {
		return err
	}
	st := inst.Configuration.Statuses
	if st.MaxCharacters <= 0 {
		return errors.New("read the instance's limits: the answer has no configuration.statuses.max_characters (Mastodon before 4.0?)")
	}
	l := limits{MaxCharacters: st.MaxCharacters, URLLength: st.CharactersReservedPerURL, Read: p.env.Now().UTC()}
	p.setLimits(l)
	if path := p.limitFile(); path != "" {
		if b, err := json.Marshal(l); err == nil && os.MkdirAll(filepath.Dir(path), 0o700) == nil {
			_ = writeFileAtomic(path, b)
		}
	}
	return nil
}

// tooLong handles the instance's refusal of a status as too long (422
// "Text character limit of N exceeded"): the limit it was checked against
// is stale, so it is read again at once, and the error says what the
// instance allows now. Other errors pass through.
func (p *Publisher) tooLong(ctx context.Context, err error) error {
	var he *publishers.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnprocessableEntity || !strings.Contains(strings.ToLower(he.Message), "character limit") {
		return err
	}
	_, before := p.Length("")
	if rerr := p.refreshLimit(ctx); rerr != nil {
		return err
	}
	_, now := p.Length("")
	he.Hint = fmt.Sprintf("the instance now allows %d characters (it was counted against %d); shorten the template or the message, then run `incident retry`", now, before)
	return err
}

// writeFileAtomic writes b to path (mode 0600) through a temporary file in
// the same directory and a rename: a reader never sees half of it.
func writeFileAtomic(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
