package typedconv

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// benchPod is a Pod as Normalize converts it: one container, defaulted.
func benchPod() *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "team-a", Labels: map[string]string{"app": "web", "owner": "team-1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "registry.example.com/web:1.2",
			Ports:     []corev1.ContainerPort{{ContainerPort: 8080}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
		}}},
	}
	scheme.Scheme.Default(p)
	return p
}

func BenchmarkToUnstructured(b *testing.B) {
	p := benchPod()
	for _, c := range []struct {
		name string
		f    func(any) (map[string]any, error)
	}{
		{"typedconv", ToUnstructured},
		{"apimachinery", runtime.DefaultUnstructuredConverter.ToUnstructured},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.f(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFromUnstructured(b *testing.B) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(benchPod())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    func(map[string]any, any) error
	}{
		{"typedconv", FromUnstructured},
		{"apimachinery", runtime.DefaultUnstructuredConverter.FromUnstructured},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.f(u, &corev1.Pod{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
