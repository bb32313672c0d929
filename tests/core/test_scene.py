"""Scene timelines: deterministic frames, interpolation, and errors that name file and line."""

import textwrap

import pytest

from gradlab.config import LabConfig
from gradlab.scene import Scene, SceneError, ease_value, load_scene


class Sweep(Scene):
    config = LabConfig(spectral_radius=0.8, steps=20)
    fps = 10

    def construct(self):
        self.caption("start")
        self.wait(0.5)
        self.animate(duration=1.0, ease="linear", spectral_radius=1.2, steps=30)
        self.caption("smooth")
        self.animate(duration=1.0, spectral_radius=0.8)
        self.set(activation="linear")
        self.caption("end")
        self.wait(0.2)


def test_timeline_records_steps_with_configs_and_lines():
    tl = Sweep.timeline()
    assert [s.kind for s in tl] == ["caption", "wait", "animate", "caption", "animate", "set",
                                    "caption", "wait"]
    assert tl.duration == pytest.approx(2.7)
    assert tl[2].before.spectral_radius == 0.8 and tl[2].after.spectral_radius == 1.2
    assert tl[5].after.activation == "linear"
    lines = [s.line for s in tl]
    assert lines == sorted(lines) and lines[0] > 0  # lines in this file, in order
    with pytest.raises(AttributeError):
        tl[0].kind = "wait"  # frozen


def test_frame_count_and_times():
    frames = list(Sweep.frames())
    # 5 (wait) + 10 + 10 (animations) + 2 (wait)
    assert len(frames) == 27 == Sweep.timeline().frame_count(10)
    assert [f.index for f in frames] == list(range(27))
    assert frames[13].time == pytest.approx(1.3)
    assert len(list(Sweep.frames(fps=20))) == 54


def test_frames_are_deterministic():
    a = list(Sweep.frames(30))
    b = list(Sweep.frames(30))
    assert a == b


def test_linear_interpolation_and_int_rounding():
    frames = list(Sweep.frames())
    first, anim = frames[:5], frames[5:15]
    assert all(f.config.spectral_radius == 0.8 and f.caption == "start" for f in first)
    # frame k of the 10-frame linear animation shows progress (k + 1) / 10
    for k, f in enumerate(anim):
        t = (k + 1) / 10
        assert f.config.spectral_radius == pytest.approx(0.8 + 0.4 * t, abs=1e-12)
        assert f.config.steps == int(20 + 10 * t + 0.5)
        assert isinstance(f.config.steps, int)
    assert anim[-1].config.spectral_radius == 1.2  # the end value exactly
    assert anim[-1].config.steps == 30


def test_smooth_ease_starts_and_ends_slowly():
    frames = list(Sweep.frames())[15:25]
    assert all(f.caption == "smooth" for f in frames)
    rho = [f.config.spectral_radius for f in frames]
    steps = [a - b for a, b in zip([1.2] + rho[:-1], rho, strict=True)]
    assert all(s > 0 for s in steps)  # monotone decrease to 0.8
    assert steps[0] < steps[4] and steps[-1] < steps[5]
    assert rho[-1] == 0.8
    assert ease_value("smooth", 0.5) == 0.5 and ease_value("smooth", 0.25) < 0.25


def test_instant_steps_apply_to_the_next_frame():
    frames = list(Sweep.frames())
    assert frames[-2].config.activation == "linear" and frames[-2].caption == "end"
    assert frames[24].config.activation == "tanh"


def test_trailing_instant_steps_add_one_frame_and_empty_scene_has_one():
    class Tail(Scene):
        def construct(self):
            self.wait(0.1)
            self.set(spectral_radius=1.5)

    frames = list(Tail.frames(10))
    assert len(frames) == 2 and frames[-1].config.spectral_radius == 1.5

    class Empty(Scene):
        pass

    (only,) = list(Empty.frames(10))
    assert only.config == LabConfig()


def test_seed_overrides_config_seed():
    class Seeded(Scene):
        config = LabConfig(seed=3)
        seed = 11

        def construct(self):
            self.wait(0.1)

    assert {f.config.seed for f in Seeded.frames(10)} == {11}


@pytest.mark.parametrize("body, message", [
    ("self.animate(duration=1, activation='linear')", "cannot be animated"),
    ("self.animate(duration=0, spectral_radius=1.1)", "duration=0"),
    ("self.wait(-1)", "seconds=-1"),
    ("self.set(colour=3)", "unknown LabConfig field"),
    ("self.animate(duration=1, ease='bounce', leak=0.5)", "ease='bounce'"),
])
def test_bad_steps_raise_scene_errors_with_this_file_and_line(body, message):
    ns = {"Scene": Scene}
    exec(compile(f"class Bad(Scene):\n    def construct(self):\n        {body}\n",
                 __file__, "exec"), ns)
    with pytest.raises(SceneError, match=message) as info:
        ns["Bad"].timeline()
    assert ":3: " in str(info.value)


def write(tmp_path, text, name="scene.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_load_scene_finds_the_class(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene
        from gradlab.config import LabConfig

        class One(Scene):
            config = LabConfig(spectral_radius=1.1)
            def construct(self):
                self.wait(1)
        """)
    cls = load_scene(path)
    assert cls.__name__ == "One"
    assert list(cls.frames(5))[0].config.spectral_radius == 1.1


def test_load_scene_with_several_classes_needs_a_name(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene

        class A(Scene):
            pass

        class B(Scene):
            def construct(self):
                self.wait(2)
        """)
    with pytest.raises(SceneError, match="several scenes.*A, B"):
        load_scene(path)
    assert load_scene(path, "B").timeline().duration == 2
    with pytest.raises(SceneError, match="no scene named 'C'"):
        load_scene(path, "C")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene

        class A(Scene):
            def construct(self):
                self.wait(1
        """)
    with pytest.raises(SceneError) as info:
        load_scene(str(path))
    msg = str(info.value)
    assert msg.startswith(f"{path}:5: SyntaxError")
    assert "\n" not in msg


def test_exception_in_construct_names_file_and_line(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene

        class A(Scene):
            def construct(self):
                self.wait(1)
                x = 1 / 0
        """)
    with pytest.raises(SceneError) as info:
        load_scene(str(path))
    assert str(info.value) == f"{path}:6: ZeroDivisionError: division by zero"


def test_bad_config_value_names_file_line_and_range(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene

        class A(Scene):
            def construct(self):
                self.caption("sweep")
                self.animate(duration=2,
                             spectral_radius=9)
        """)
    with pytest.raises(SceneError) as info:
        load_scene(str(path))
    assert str(info.value) == (f"{path}:6: spectral_radius=9 is out of range; "
                               "allowed [0.01, 4.0]")


def test_bad_class_config_and_exception_at_import(tmp_path):
    path = write(tmp_path, """\
        from gradlab.scene import Scene
        from gradlab.config import LabConfig

        class A(Scene):
            config = LabConfig(hidden=1)
        """)
    with pytest.raises(SceneError, match=r":5: hidden=1 is out of range; allowed \[2, 512\]"):
        load_scene(path)


def test_missing_file_and_no_scene(tmp_path):
    with pytest.raises(SceneError, match="no such scene file"):
        load_scene(tmp_path / "nope.py")
    path = write(tmp_path, "x = 1\n")
    with pytest.raises(SceneError, match="defines no Scene subclass"):
        load_scene(path)
