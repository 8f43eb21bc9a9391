package bluesky

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/incident-cli/incident/publishers"
)

// session is what createSession and refreshSession answer, as far as this
// channel needs it. It is also the session file's content.
type session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Did        string `json:"did"`
	Handle     string `json:"handle"`
}

func (s *session) valid() bool {
	return s != nil && s.AccessJwt != "" && s.RefreshJwt != "" && strings.HasPrefix(s.Did, "did:") && s.Handle != ""
}

// sessionFile is where the session for this PDS and account is kept, or ""
// when the runbook gave no state directory (the session then lives only as
// long as the process).
func (c *channel) sessionFile() string {
	if c.env.StateDir == "" {
		return ""
	}
	h := sha256.Sum256([]byte(c.base + "\n" + c.cfg.Identifier))
	return filepath.Join(c.env.StateDir, "bluesky-session-"+hex.EncodeToString(h[:8])+".json")
}

// session returns the current session: the one in memory, else the stored
// one, else a new one from createSession.
func (c *channel) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s.valid() {
		return s, nil
	}
	if stored := c.stored(); stored != nil {
		c.keep(stored, false)
		return stored, nil
	}
	return c.login(ctx)
}

// stored reads the session file; nil when there is none or it is unusable.
func (c *channel) stored() *session {
	p := c.sessionFile()
	if p == "" {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var s session
	if json.Unmarshal(b, &s) != nil || !s.valid() {
		return nil
	}
	return &s
}

// login creates a session with the app password.
func (c *channel) login(ctx context.Context) (*session, error) {
	const op = "create session"
	pw, err := c.env.Secrets.Resolve(ctx, c.cfg.AppPassword)
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	var s session
	body := map[string]string{"identifier": c.cfg.Identifier, "password": pw}
	if _, err := c.call(ctx, op, http.MethodPost, "com.atproto.server.createSession", "", body, &s); err != nil {
		return nil, err
	}
	if !s.valid() {
		return nil, errors.New(op + ": the answer lacks accessJwt, refreshJwt, did or handle")
	}
	c.keep(&s, true)
	return &s, nil
}

// renew replaces a session whose access token expired: refreshSession with
// the refresh token, or, when that is refused too, a new session.
func (c *channel) renew(ctx context.Context, old *session) (*session, error) {
	var s session
	_, err := c.call(ctx, "refresh session", http.MethodPost, "com.atproto.server.refreshSession", old.RefreshJwt, nil, &s)
	var he *publishers.HTTPError
	switch {
	case err == nil && s.valid():
		c.keep(&s, true)
		return &s, nil
	case err == nil:
		return nil, errors.New("refresh session: the answer lacks accessJwt, refreshJwt, did or handle")
	case errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusUnauthorized):
		// The refresh token expired or was used: perhaps by another run,
		// which then stored the session it got.
		if s := c.stored(); s != nil && s.RefreshJwt != old.RefreshJwt {
			c.keep(s, false)
			return s, nil
		}
		return c.login(ctx)
	}
	return nil, err
}

// keep makes s the current session and, when it is new, stores it.
func (c *channel) keep(s *session, store bool) {
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	if p := c.sessionFile(); store && p != "" {
		err := writeFileAtomic(p, s)
		c.mu.Lock()
		c.saveErr = err
		c.mu.Unlock()
	}
}

// authed runs call with the session's access token. When the PDS says the
// token expired, it renews the session and runs call once more.
func (c *channel) authed(ctx context.Context, call func(s *session) error) (*session, error) {
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	err = call(s)
	if !tokenRefused(err) {
		return s, err
	}
	if s, err = c.renew(ctx, s); err != nil {
		return nil, err
	}
	return s, call(s)
}

// tokenRefused reports whether the PDS refused the access token itself:
// 400 ExpiredToken when it expired, 400/401 InvalidToken when it cannot be
// verified (revoked, or signed with a rotated key).
func tokenRefused(err error) bool {
	var he *publishers.HTTPError
	return errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusUnauthorized) &&
		(strings.HasPrefix(he.Message, "ExpiredToken") || strings.HasPrefix(he.Message, "InvalidToken"))
}

// writeFileAtomic writes s as JSON to path with mode 0600: a temporary file
// in the same directory, synced, then renamed over path, so a crash leaves
// either the old file or the new one.
func writeFileAtomic(path string, s *session) (err error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	f, err := os.CreateTemp(dir, ".bluesky-session-*")
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if _, err = io.Copy(f, bytes.NewReader(append(b, '\n'))); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
