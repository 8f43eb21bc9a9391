package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/publishers/static"
)

func (a *app) newSiteCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "site",
		Short: "Build or preview the built-in static status page",
	}
	build := &cobra.Command{
		Use:   "build",
		Short: "Render the static status page from the incident records",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.staticPage()
			if err != nil {
				return err
			}
			n, err := a.rb.BuildSite(s)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "built %d incident page(s) into %s\n", n, s.Dir())
			return nil
		},
	}
	var addr string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Build the static status page and preview it on localhost",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.staticPage()
			if err != nil {
				return err
			}
			if _, err := a.rb.BuildSite(s); err != nil {
				return err
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil || (host != "localhost" && net.ParseIP(host) == nil) || (net.ParseIP(host) != nil && !net.ParseIP(host).IsLoopback()) {
				return usageErrorf("--addr %q: serve previews on a loopback address only, like 127.0.0.1:8080", addr)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "serving %s on http://%s/ (Ctrl-C stops)\n", s.Dir(), ln.Addr())
			srv := &http.Server{Handler: previewHandler(s.Dir()), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				<-c.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "loopback address to listen on")
	c.AddCommand(build, serve)
	return c
}

func (a *app) staticPage() (*static.Publisher, error) {
	rb, err := a.runbook()
	if err != nil {
		return nil, err
	}
	s, ok := rb.StatusPage.Pub.(*static.Publisher)
	if !ok {
		return nil, fmt.Errorf("the status page is of type %q: `incident site` renders only the built-in static page", rb.StatusPage.Type)
	}
	return s, nil
}

// previewHandler serves the site in dir for `incident site serve`, to this
// machine only: a request whose Host is not loopback (localhost, 127.0.0.1,
// [::1], with any port) is refused with 403, so a web page cannot read the
// preview through DNS rebinding; a path with a segment starting with "."
// (.git/config holds a deploy token) is 404, and so is a folder without an
// index.html (no listings).
func previewHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "403 forbidden: this preview answers only to localhost", http.StatusForbidden)
			return
		}
		clean := path.Clean("/" + r.URL.Path)
		for _, seg := range strings.Split(clean, "/") {
			if strings.HasPrefix(seg, ".") {
				http.NotFound(w, r)
				return
			}
		}
		p := filepath.Join(dir, filepath.FromSlash(clean))
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "index.html")); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
