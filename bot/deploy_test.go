package bot

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Kubernetes manifests and the Helm chart's renders are checked here
// for what the "restricted" Pod Security Standard requires of a pod, and
// what the README promises of the deployment. Their validation against
// Kubernetes' schema and the Pod Security admission library is in
// deploy/check, a module of its own (Helm and client-go stay out of this
// go.mod), which .ci/run also runs.

type k8sSecurity struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	RunAsUser                *int  `yaml:"runAsUser"`
	Privileged               *bool `yaml:"privileged"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	Capabilities             struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile *struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type k8sContainer struct {
	Name            string       `yaml:"name"`
	Image           string       `yaml:"image"`
	SecurityContext *k8sSecurity `yaml:"securityContext"`
	Resources       struct {
		Limits map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	ReadinessProbe *struct {
		HTTPGet struct {
			Path string `yaml:"path"`
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	Ports []struct {
		HostPort int `yaml:"hostPort"`
	} `yaml:"ports"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
}

type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		MinAvailable *int `yaml:"minAvailable"`
		Replicas     int  `yaml:"replicas"`
		Template     struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				HostNetwork     bool             `yaml:"hostNetwork"`
				HostPID         bool             `yaml:"hostPID"`
				HostIPC         bool             `yaml:"hostIPC"`
				SecurityContext *k8sSecurity     `yaml:"securityContext"`
				InitContainers  []k8sContainer   `yaml:"initContainers"`
				Containers      []k8sContainer   `yaml:"containers"`
				Volumes         []map[string]any `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// restrictedVolumes are the volume types the restricted level allows.
var restrictedVolumes = map[string]bool{
	"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
	"persistentVolumeClaim": true, "projected": true, "secret": true,
}

// memBytes parses a Kubernetes memory quantity in the binary or plain
// forms the manifests use (512Mi, 1Gi, 1073741824).
func memBytes(q string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if strings.HasSuffix(q, suf) {
			q, mult = strings.TrimSuffix(q, suf), m
		}
	}
	n, err := strconv.ParseInt(q, 10, 64)
	return n * mult, err
}

// TestKubernetesManifests checks deploy/kubernetes and the Helm chart's
// renders in deploy/check/testdata, which deploy/check's TestChartGolden
// keeps equal to what the chart renders (that module also validates both
// against Kubernetes' schema and the Pod Security admission library).
// Each file must keep every promise on its own.
func TestKubernetesManifests(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "deploy", "kubernetes", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	renders, err := filepath.Glob(filepath.Join("..", "deploy", "check", "testdata", "render-*.yaml"))
	if err != nil || len(renders) == 0 {
		t.Fatalf("no Helm chart renders in deploy/check/testdata: %v", err)
	}
	for _, p := range append(paths, renders...) {
		t.Run(strings.TrimPrefix(filepath.ToSlash(p), "../"), func(t *testing.T) { checkManifests(t, p) })
	}
}

func checkManifests(t *testing.T, p string) {
	var pods, pdbs []k8sObject
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for i := 0; ; i++ {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s doc %d: %v", p, i, err)
		}
		switch o.Kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			pods = append(pods, o)
		case "PodDisruptionBudget":
			pdbs = append(pdbs, o)
		}
	}
	if len(pods) == 0 {
		t.Fatalf("no Deployment in %s", p)
	}
	for _, o := range pods {
		name := o.Kind + "/" + o.Metadata.Name
		ps := o.Spec.Template.Spec
		if ps.HostNetwork || ps.HostPID || ps.HostIPC {
			t.Errorf("%s: host namespaces are not allowed under restricted", name)
		}
		pod := ps.SecurityContext
		if pod == nil {
			pod = &k8sSecurity{}
		}
		emptyDirs := map[string]bool{}
		for _, v := range ps.Volumes {
			for k := range v {
				if k != "name" && !restrictedVolumes[k] {
					t.Errorf("%s: volume %v of type %s is not allowed under restricted", name, v["name"], k)
				}
				if k == "emptyDir" {
					emptyDirs[v["name"].(string)] = true
				}
			}
		}
		for _, c := range append(ps.InitContainers, ps.Containers...) {
			cn := name + " container " + c.Name
			sc := c.SecurityContext
			if sc == nil {
				sc = &k8sSecurity{}
			}
			if !(isTrue(sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && isTrue(pod.RunAsNonRoot))) {
				t.Errorf("%s: runAsNonRoot must be true (container or pod)", cn)
			}
			if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (pod.RunAsUser != nil && *pod.RunAsUser == 0) {
				t.Errorf("%s: runAsUser 0", cn)
			}
			if isTrue(sc.Privileged) {
				t.Errorf("%s: privileged", cn)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation must be false", cn)
			}
			if !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: capabilities.drop must include ALL, got %v", cn, sc.Capabilities.Drop)
			}
			for _, a := range sc.Capabilities.Add {
				if a != "NET_BIND_SERVICE" {
					t.Errorf("%s: capability %s added", cn, a)
				}
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil {
				seccomp = pod.SeccompProfile
			}
			if seccomp == nil || (seccomp.Type != "RuntimeDefault" && seccomp.Type != "Localhost") {
				t.Errorf("%s: seccompProfile.type must be RuntimeDefault (container or pod), got %+v", cn, seccomp)
			}
			for _, p := range c.Ports {
				if p.HostPort != 0 {
					t.Errorf("%s: hostPort %d", cn, p.HostPort)
				}
			}
			// What the README promises beyond the restricted level.
			if !isTrue(sc.ReadOnlyRootFilesystem) {
				t.Errorf("%s: readOnlyRootFilesystem must be true", cn)
			}
			tmp := false
			for _, m := range c.VolumeMounts {
				tmp = tmp || (m.MountPath == "/tmp" && emptyDirs[m.Name])
			}
			if !tmp {
				t.Errorf("%s: /tmp must be an emptyDir mount next to the read-only root", cn)
			}
			if !pinnedImage(c.Image) {
				t.Errorf("%s: image %q must be pinned to a tag other than latest, or a digest", cn, c.Image)
			}
			limit, err := memBytes(c.Resources.Limits["memory"])
			if err != nil || limit < 1<<30 {
				t.Errorf("%s: memory limit %q, want at least 1Gi (at 250k entities the bench process peaks near 800 MB)", cn, c.Resources.Limits["memory"])
			}
			// Go's soft limit under the container's, so the collector works
			// harder before the kernel kills the pod.
			soft := int64(-1)
			for _, e := range c.Env {
				if e.Name == "GOMEMLIMIT" {
					soft, _ = memBytes(strings.TrimSuffix(e.Value, "B"))
				}
			}
			if soft <= 0 || soft >= limit {
				t.Errorf("%s: GOMEMLIMIT must be set below the memory limit %q", cn, c.Resources.Limits["memory"])
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz?allow_cached=true" {
				t.Errorf("%s: readiness probe %+v, want /readyz?allow_cached=true (ready while answering from cache)", cn, c.ReadinessProbe)
			}
		}
		covered := false
		for _, pdb := range pdbs {
			sel := pdb.Spec.Selector.MatchLabels
			match := len(sel) > 0
			for k, v := range sel {
				match = match && o.Spec.Template.Metadata.Labels[k] == v
			}
			covered = covered || (match && pdb.Spec.MinAvailable != nil && *pdb.Spec.MinAvailable >= 1 && *pdb.Spec.MinAvailable < o.Spec.Replicas)
		}
		if !covered {
			t.Errorf("%s: no PodDisruptionBudget selects its pods with 1 <= minAvailable < replicas (%d)", name, o.Spec.Replicas)
		}
	}
}

// TestDockerfileWritableWorkdir: the final stage's working directory is
// one the nonroot user owns, so the default sqlite:portalbot.db can be
// created there.
func TestDockerfileWritableWorkdir(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var final []string // instructions of the last stage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			final = nil
		}
		final = append(final, line)
	}
	workdir, owned := "", map[string]bool{}
	for _, l := range final {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "WORKDIR":
			workdir = f[1]
		case "COPY":
			chown := func(w string) bool {
				return strings.HasPrefix(w, "--chown=65532") || strings.HasPrefix(w, "--chown=nonroot")
			}
			if slices.ContainsFunc(f, chown) {
				owned[f[len(f)-1]] = true
			}
		}
	}
	if workdir == "" || !owned[workdir] {
		t.Errorf("Dockerfile final stage: WORKDIR %q, want a directory copied with --chown to nonroot (owned %v)", workdir, owned)
	}
	if DefaultConfig().DB != "sqlite:portalbot.db" {
		t.Errorf("default DB %q: this test assumes it is relative to the working directory", DefaultConfig().DB)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// pinnedImage reports whether image names a digest or a tag other than
// latest.
func pinnedImage(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return false
	}
	return image[i+1:] != "latest" && image[i+1:] != ""
}
