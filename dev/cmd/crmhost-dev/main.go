package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"crmhost.dev/dev"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("crmhost-dev: ")
	hostBin := flag.String("host", "bin/crmhost", "the crmhost binary")
	plugins := flag.String("plugins", "bin/plugins", "the folder of driver binaries (crm-driver-<slug>)")
	dir := flag.String("dir", ".crmhost", "the dev state folder (SQLite database, keys, fakes.json and the fakes' journals, dev.json); remove it to start clean")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: crmhost-dev [flags] [-- extra crmhost dev args]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	code, err := run(*hostBin, *plugins, *dir, flag.Args())
	if err != nil {
		log.Print(err)
	}
	os.Exit(code)
}

// run starts the fakes, runs the host until it exits and returns the exit
// code to leave with.
func run(hostBin, plugins, dir string, extra []string) (int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 1, err
	}
	fakes, err := dev.StartFakes(plugins, dir, log.Printf)
	if err != nil {
		return 1, err
	}
	defer fakes.Close()
	if len(fakes.File.Providers) == 0 {
		log.Printf("WARNING: no driver binaries with a fake in %s (run make plugins): no demo tenant will be seeded", plugins)
	}
	fakesPath := filepath.Join(dir, dev.FakesFileName)
	if err := dev.WriteFakesFile(fakesPath, fakes.File); err != nil {
		return 1, err
	}

	args := append([]string{"dev", "-dir", dir, "-plugins", plugins, "-fakes", fakesPath}, extra...)
	cmd := exec.Command(hostBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = sysProcAttr()
	// Catch the signals before the host starts, so none is lost between.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start host: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				log.Printf("forward %s to the host: %v", sig, err)
			}
		case err := <-done:
			return exitCode(err)
		}
	}
}

// exitCode turns the host's exit into ours: its own code, or 128+signal
// when a signal ended it, as a shell would report it.
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 1, fmt.Errorf("wait for host: %w", err)
}
