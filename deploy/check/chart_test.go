package check

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/render-*.yaml from the chart")

const (
	chartDir  = "../helm/portalbot"
	namespace = "portalbot"
)

// kubeVersion is the cluster version renders assume: the one of the
// client-go whose types and schema validate them (v0.37 is Kubernetes
// 1.37). Helm assumes 1.20 in test binaries, below Chart.yaml's kubeVersion.
var kubeVersion = func() *common.KubeVersion {
	v, err := common.ParseKubeVersion("v1.37.0")
	if err != nil {
		panic(err)
	}
	return v
}()

// render renders the chart as `helm template portalbot deploy/helm/portalbot
// --namespace portalbot` does: values.schema.json is applied, and the
// templates' fail and required calls fail it.
func render(t testing.TB, values map[string]any) (string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load %s: %v", chartDir, err)
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = "portalbot"
	inst.Namespace = namespace
	inst.KubeVersion = kubeVersion
	rel, err := inst.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return "", err
	}
	r, ok := rel.(*release.Release)
	if !ok {
		t.Fatalf("Install.Run returned %T, want *release.Release", rel)
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(r.Manifest) + "\n")
	for _, h := range r.Hooks {
		b.WriteString("---\n# Source: " + h.Path + "\n" + h.Manifest + "\n")
	}
	return b.String(), nil
}

// mustValidate renders values and fails the test on any render or
// validation error.
func mustValidate(t *testing.T, values map[string]any) (string, []runtime.Object) {
	t.Helper()
	out, err := render(t, values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs, errs := validate([]byte(out))
	for _, e := range errs {
		t.Error(e)
	}
	return out, objs
}

func vals(t *testing.T, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatalf("values %q: %v", y, err)
	}
	return m
}

// goldens are the renders bot's TestKubernetesManifests also checks (it
// reads testdata/render-*.yaml), so the chart keeps every promise the
// plain manifests keep: pinned image, 1 GiB memory limit, /tmp emptyDir,
// readiness from cache and a PodDisruptionBudget.
var goldens = []struct{ name, values string }{
	{"default", ""},
	{"ha", `
replicaCount: 3
image: {digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
podDisruptionBudget: {minAvailable: 2}
ingress: {enabled: true, host: portalbot.example.com, tlsSecretName: portalbot-tls, className: nginx}
extraEnv: [{name: PORTALBOT_LOG_LEVEL, value: debug}]
extraVolumes: [{name: ca, configMap: {name: corporate-ca}}]
extraVolumeMounts: [{name: ca, mountPath: /etc/ssl/certs/corporate-ca.pem, subPath: ca.pem, readOnly: true}]
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector: {matchLabels: {app.kubernetes.io/name: portalbot}}
`},
}

func TestChartGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			out, _ := mustValidate(t, vals(t, g.values))
			path := filepath.Join("testdata", "render-"+g.name+".yaml")
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("render %s differs from %s; if the change is meant, run `go test -run TestChartGolden -update` in deploy/check and review the diff", g.name, path)
			}
		})
	}
}

// find returns the objects of type T in objs.
func find[T runtime.Object](objs []runtime.Object) []T {
	var out []T
	for _, o := range objs {
		if x, ok := o.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// TestChartVariants renders the chart with values other than the goldens'
// and checks what each promises.
func TestChartVariants(t *testing.T) {
	tests := []struct {
		name, values string
		check        func(t *testing.T, objs []runtime.Object)
	}{
		{"defaults", "", func(t *testing.T, objs []runtime.Object) {
			d := find[*appsv1.Deployment](objs)[0]
			c := d.Spec.Template.Spec.Containers[0]
			if c.Image != "ghcr.io/example/portalbot:v0.1.0" {
				t.Errorf("image %q, want the pinned ghcr.io/example/portalbot:v0.1.0", c.Image)
			}
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "portalbot" {
				t.Errorf("envFrom %+v, want the Secret portalbot", c.EnvFrom)
			}
			if v, _ := envValue(c, "PORTALBOT_DISCORD_GATEWAY"); v != "off" {
				t.Errorf("PORTALBOT_DISCORD_GATEWAY %q, want off with several replicas", v)
			}
			if _, ok := envValue(c, "PORTALBOT_DB"); ok {
				t.Error("PORTALBOT_DB set in env; it belongs in the Secret (it holds a password)")
			}
			if len(find[*corev1.Secret](objs)) != 0 {
				t.Error("the chart renders a Secret; it must only reference existingSecret")
			}
			if s := d.Spec.Template.Spec.AutomountServiceAccountToken; s == nil || *s {
				t.Error("automountServiceAccountToken is not false; the bot never calls the API")
			}
			cm := find[*corev1.ConfigMap](objs)[0]
			if !strings.Contains(cm.Data["portalbot.yaml"], "cache_dir: /var/cache/portalbot") {
				t.Errorf("portalbot.yaml = %q, want sync.cache_dir on the cache volume", cm.Data["portalbot.yaml"])
			}
		}},
		{"sqlite", "replicaCount: 1\nsqlite: {enabled: true}", func(t *testing.T, objs []runtime.Object) {
			d := find[*appsv1.Deployment](objs)[0]
			if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy %q, want Recreate: SQLite has one writer", d.Spec.Strategy.Type)
			}
			if v, _ := envValue(d.Spec.Template.Spec.Containers[0], "PORTALBOT_DB"); v != "sqlite:/data/portalbot.db" {
				t.Errorf("PORTALBOT_DB %q, want sqlite:/data/portalbot.db", v)
			}
			if n := len(find[*policyv1.PodDisruptionBudget](objs)); n != 0 {
				t.Errorf("%d PodDisruptionBudgets on one replica, want none (it would block every drain)", n)
			}
			pvcs := find[*corev1.PersistentVolumeClaim](objs)
			if len(pvcs) != 1 || pvcs[0].Name != "portalbot-data" {
				t.Fatalf("PersistentVolumeClaims %v, want portalbot-data", pvcs)
			}
			i := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "data" })
			if i < 0 || d.Spec.Template.Spec.Volumes[i].PersistentVolumeClaim == nil || d.Spec.Template.Spec.Volumes[i].PersistentVolumeClaim.ClaimName != "portalbot-data" {
				t.Errorf("volumes %+v, want data on claim portalbot-data", d.Spec.Template.Spec.Volumes)
			}
		}},
		{"sqlite-ephemeral", "replicaCount: 1\nsqlite: {enabled: true, persistence: {enabled: false}}", func(t *testing.T, objs []runtime.Object) {
			if n := len(find[*corev1.PersistentVolumeClaim](objs)); n != 0 {
				t.Errorf("%d PersistentVolumeClaims, want none", n)
			}
		}},
		{"sqlite-existing-claim", "replicaCount: 1\nsqlite: {enabled: true, persistence: {existingClaim: mine}}", func(t *testing.T, objs []runtime.Object) {
			if n := len(find[*corev1.PersistentVolumeClaim](objs)); n != 0 {
				t.Errorf("%d PersistentVolumeClaims, want none with existingClaim", n)
			}
			vs := find[*appsv1.Deployment](objs)[0].Spec.Template.Spec.Volumes
			i := slices.IndexFunc(vs, func(v corev1.Volume) bool {
				return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "mine"
			})
			if i < 0 {
				t.Errorf("volumes %+v, want claim mine", vs)
			}
		}},
		{"one-replica-postgres", "replicaCount: 1", func(t *testing.T, objs []runtime.Object) {
			if n := len(find[*policyv1.PodDisruptionBudget](objs)); n != 0 {
				t.Errorf("%d PodDisruptionBudgets on one replica, want none", n)
			}
		}},
		{"no-size-limits", "tmpVolume: {sizeLimit: ''}\nservice: {type: LoadBalancer, port: 8080}\nfullnameOverride: bot", func(t *testing.T, objs []runtime.Object) {
			s := find[*corev1.Service](objs)[0]
			if s.Name != "bot" || s.Spec.Type != corev1.ServiceTypeLoadBalancer || s.Spec.Ports[0].Port != 8080 {
				t.Errorf("service %s %s %+v, want bot LoadBalancer on 8080", s.Name, s.Spec.Type, s.Spec.Ports)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, objs := mustValidate(t, vals(t, tt.values))
			if len(find[*appsv1.Deployment](objs)) != 1 {
				t.Fatalf("got %d Deployments, want 1", len(find[*appsv1.Deployment](objs)))
			}
			tt.check(t, objs)
		})
	}
}

// TestChartRefuses: values that would break a promise fail the render,
// with a message naming the value.
func TestChartRefuses(t *testing.T) {
	tests := []struct{ name, values, want string }{
		{"root", "podSecurityContext: {runAsNonRoot: false}", "runAsNonRoot"},
		{"privilege escalation", "securityContext: {allowPrivilegeEscalation: true}", "allowPrivilegeEscalation"},
		{"writable root", "securityContext: {readOnlyRootFilesystem: false}", "readOnlyRootFilesystem"},
		{"capabilities kept", "securityContext: {capabilities: {drop: [NET_RAW]}}", "drop"},
		{"unconfined seccomp", "podSecurityContext: {seccompProfile: {type: Unconfined}}", "seccompProfile"},
		{"latest", "image: {tag: latest}", "tag"},
		{"empty tag", "image: {tag: ''}", "tag"},
		{"misspelled value", "replicas: 3", "replicas"},
		{"misspelled nested value", "podDisruptionBudget: {minAvailabe: 1}", "minAvailabe"},
		{"wrong type", "replicaCount: two", "replicaCount"},
		{"secret in values", "existingSecret: ''", "existingSecret"},
		{"hostPath volume", "extraVolumes: [{name: host, hostPath: {path: /}}]", "hostPath"},
		{"sqlite with replicas", "sqlite: {enabled: true}", "one replica only"},
		{"pdb blocks drains", "podDisruptionBudget: {minAvailable: 2}", "minAvailable"},
		{"ingress without host", "ingress: {enabled: true}", "ingress.host"},
		{"short grace", "terminationGracePeriodSeconds: 10", "terminationGracePeriodSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, vals(t, tt.values))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render(%s) error = %v, want one naming %q", tt.values, err, tt.want)
			}
		})
	}
}

// TestValidatorRejects shows that the validator fails: each case breaks
// the default render in one place.
func TestValidatorRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "render-default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, old, new, want string }{
		{"misspelled field", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", `unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"`},
		{"wrong type", "replicas: 2", "replicas: two", "replicas"},
		{"duplicate key", "  replicas: 2\n", "  replicas: 2\n  replicas: 3\n", `key "replicas" already set`},
		{"runAsNonRoot false", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot != true"},
		{"privileged", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: false\n            privileged: true", "privileged"},
		{"no seccomp", "type: RuntimeDefault", "type: Unconfined", "seccompProfile"},
		{"hostPath", "- name: tmp\n          emptyDir: { sizeLimit: 1Gi }", "- name: tmp\n          hostPath: {path: /tmp}", `restricted volume type "hostPath"`},
		{"null emptyDir", "emptyDir: { sizeLimit: 1Gi }", "emptyDir:", "0 volume types set"},
		{"mount of no volume", "- name: tmp\n              mountPath: /tmp", "- name: tmpp\n              mountPath: /tmp", `volumeMount "tmpp" names no volume`},
		{"selector mismatch", "      labels:\n        app.kubernetes.io/name: portalbot", "      labels:\n        app.kubernetes.io/name: portalbott", "does not match"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgett", "PodDisruptionBudgett"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tt.old)) {
				t.Fatalf("render-default.yaml has no %q", tt.old)
			}
			bad := bytes.Replace(good, []byte(tt.old), []byte(tt.new), 1)
			_, errs := validate(bad)
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			t.Logf("validate: %q", all)
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("validate(%s) = %q, want an error containing %q", tt.name, all, tt.want)
			}
		})
	}
}

// TestKubernetesManifests validates deploy/kubernetes as the chart's
// renders are; bot's test of the same name checks the promises it makes.
func TestKubernetesManifests(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "kubernetes", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		objs, errs := validate(b)
		for _, e := range errs {
			t.Errorf("%s: %v", p, e)
		}
		if len(find[*appsv1.Deployment](objs)) == 0 {
			t.Errorf("%s: no Deployment", p)
		}
	}
}

// TestLint runs `helm lint --strict`: Chart.yaml's fields, the schema,
// and every template rendering to valid YAML.
func TestLint(t *testing.T) {
	l := action.NewLint()
	l.Strict = true
	l.Namespace = namespace
	l.KubeVersion = kubeVersion
	res := l.Run([]string{chartDir}, nil)
	for _, m := range res.Messages {
		t.Log(m)
	}
	for _, e := range res.Errors {
		t.Error(e)
	}
}
