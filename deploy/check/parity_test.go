package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"
)

// TestChartMatchesManifest: the chart's defaults are the plain manifest's,
// so that the two ways to deploy do not drift apart. The chart may add
// (an env variable, annotations, a read-only config mount), not differ.
func TestChartMatchesManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "kubernetes", "portalbot.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plain, errs := validate(b)
	if len(errs) > 0 {
		t.Fatalf("deploy/kubernetes/portalbot.yaml: %v", errs)
	}
	_, chart := mustValidate(t, nil)

	one := func(name string, n int) {
		t.Helper()
		if n != 1 {
			t.Fatalf("%s: %d objects of a kind, want 1", name, n)
		}
	}
	md, cd := find[*appsv1.Deployment](plain), find[*appsv1.Deployment](chart)
	one("manifest Deployment", len(md))
	one("chart Deployment", len(cd))
	m, c := md[0], cd[0]
	same := func(what string, got, want any) {
		t.Helper()
		if !equality.Semantic.DeepEqual(got, want) {
			g, _ := json.Marshal(got) // a value of a Kubernetes type always marshals
			w, _ := json.Marshal(want)
			t.Errorf("chart %s = %s, manifest %s", what, g, w)
		}
	}
	same("replicas", *c.Spec.Replicas, *m.Spec.Replicas)
	same("terminationGracePeriodSeconds", c.Spec.Template.Spec.TerminationGracePeriodSeconds, m.Spec.Template.Spec.TerminationGracePeriodSeconds)
	same("pod securityContext", c.Spec.Template.Spec.SecurityContext, m.Spec.Template.Spec.SecurityContext)
	for k, v := range m.Spec.Template.Annotations {
		same("pod annotation "+k, c.Spec.Template.Annotations[k], v)
	}
	mc, cc := m.Spec.Template.Spec.Containers[0], c.Spec.Template.Spec.Containers[0]
	same("image", cc.Image, mc.Image)
	same("args", cc.Args, mc.Args)
	same("containerPort", cc.Ports[0].ContainerPort, mc.Ports[0].ContainerPort)
	same("resources", cc.Resources, mc.Resources)
	same("readinessProbe", cc.ReadinessProbe, mc.ReadinessProbe)
	same("livenessProbe", cc.LivenessProbe, mc.LivenessProbe)
	same("container securityContext", cc.SecurityContext, mc.SecurityContext)
	for _, e := range mc.Env {
		v, _ := envValue(cc, e.Name)
		same("env "+e.Name, v, e.Value)
	}
	vol := func(d *appsv1.Deployment, mountPath string) *corev1.Volume {
		ps := d.Spec.Template.Spec
		for _, vm := range ps.Containers[0].VolumeMounts {
			for i, v := range ps.Volumes {
				if vm.MountPath == mountPath && v.Name == vm.Name {
					return &ps.Volumes[i]
				}
			}
		}
		return nil
	}
	for _, vm := range mc.VolumeMounts {
		mv, cv := vol(m, vm.MountPath), vol(c, vm.MountPath)
		if cv == nil {
			t.Errorf("chart mounts nothing at %s", vm.MountPath)
			continue
		}
		mv.ConfigMap, cv.ConfigMap = nil, nil // names differ by release
		same("volume at "+vm.MountPath, cv.VolumeSource, mv.VolumeSource)
	}

	mp, cp := find[*policyv1.PodDisruptionBudget](plain), find[*policyv1.PodDisruptionBudget](chart)
	one("manifest PodDisruptionBudget", len(mp))
	one("chart PodDisruptionBudget", len(cp))
	same("PodDisruptionBudget minAvailable", cp[0].Spec.MinAvailable, mp[0].Spec.MinAvailable)

	ms, cs := find[*corev1.Service](plain), find[*corev1.Service](chart)
	one("manifest Service", len(ms))
	one("chart Service", len(cs))
	same("Service port", cs[0].Spec.Ports[0].Port, ms[0].Spec.Ports[0].Port)

	mcm, ccm := find[*corev1.ConfigMap](plain), find[*corev1.ConfigMap](chart)
	one("manifest ConfigMap", len(mcm))
	one("chart ConfigMap", len(ccm))
	var mconf, cconf any
	if err := yaml.Unmarshal([]byte(mcm[0].Data["portalbot.yaml"]), &mconf); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(ccm[0].Data["portalbot.yaml"]), &cconf); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cconf, mconf) {
		t.Errorf("chart portalbot.yaml = %v, manifest %v", cconf, mconf)
	}
}
