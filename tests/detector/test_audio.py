"""detector.audio: every format decodes to 16 kHz mono of the right length; bad files fail clearly."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import FORMATS, ffmpeg, sine, write_audio
from detector_support import BURST, FIXTURE_SECONDS, burst

from detector import audio
from detector.audio import AudioInfo, load, probe, stream
from detector.errors import AudioError, DetectorError


@pytest.mark.parametrize("ext", FORMATS)
def test_every_format_decodes_to_16k_mono_float32_of_the_right_duration(audio_files, ext):
    y = load(audio_files[ext])
    assert y.dtype == np.float32 and y.ndim == 1
    # within 1 ms; raw ADTS AAC has no record of the encoder's padding, so its last frame stays
    tolerance = 0.05 if ext == "aac" else 0.001
    assert abs(len(y) / 16000 - FIXTURE_SECONDS) <= tolerance
    assert np.abs(y).max() <= 1.0


@pytest.mark.parametrize("ext", FORMATS)
def test_every_format_is_probed_without_decoding(audio_files, ext):
    info = probe(audio_files[ext])
    assert isinstance(info, AudioInfo)
    assert info.sample_rate in (44100, 48000) and info.channels == 2
    assert abs(info.duration - FIXTURE_SECONDS) < 0.05
    assert info.codec and info.container


def test_probe_names_codecs_and_containers_in_ffmpeg_style(audio_files):
    got = {ext: (probe(audio_files[ext]).codec, probe(audio_files[ext]).container) for ext in FORMATS}
    assert got["wav"] == ("pcm_s16", "wav")
    assert got["mp3"] == ("mp3", "mp3")
    assert got["m4a"] == ("aac", "mp4")
    assert got["opus"][0] == "opus" and got["ogg"] == ("vorbis", "ogg")


@pytest.mark.parametrize("ext", FORMATS)
def test_the_tone_burst_sits_at_the_same_time_in_every_format(audio_files, ext):
    y = load(audio_files[ext])
    loud = np.flatnonzero(np.abs(y) > 0.25)
    # raw ADTS AAC does not record the encoder's 1024-sample delay, so it starts 23 ms late
    tolerance = 0.025 if ext == "aac" else 0.001
    assert abs(loud[0] / 16000 - BURST[0]) < tolerance
    assert abs(loud[-1] / 16000 - BURST[1]) < tolerance


def test_stereo_is_averaged_to_mono(tmp_path):
    left = sine(1.0, sr=16000, amplitude=0.5)
    write_audio(tmp_path / "lr.wav", np.c_[left, -left], 16000, subtype="FLOAT")
    write_audio(tmp_path / "ll.wav", np.c_[left, left], 16000, subtype="FLOAT")
    assert np.abs(load(tmp_path / "lr.wav")).max() < 1e-6
    np.testing.assert_allclose(load(tmp_path / "ll.wav"), left, atol=1e-6)


def test_resampling_keeps_a_tone_at_its_frequency(tmp_path):
    write_audio(tmp_path / "a.wav", sine(2.0, sr=44100, freq=1000.0), 44100)
    y = load(tmp_path / "a.wav")
    spectrum = np.abs(np.fft.rfft(y[4000:-4000]))
    freqs = np.fft.rfftfreq(len(y) - 8000, 1 / 16000)
    assert abs(freqs[spectrum.argmax()] - 1000.0) < 2.0


def test_loud_float_files_are_clipped_to_plus_minus_one(tmp_path):
    write_audio(tmp_path / "loud.wav", 3.0 * sine(0.5), 16000, subtype="FLOAT")
    y = load(tmp_path / "loud.wav")
    assert y.max() == pytest.approx(1.0) and y.min() == pytest.approx(-1.0)


def test_load_can_resample_to_another_rate(audio_files):
    assert abs(len(load(audio_files["flac"], sr=8000)) - FIXTURE_SECONDS * 8000) <= 8


def test_stream_yields_bounded_blocks_that_concatenate_to_load(tmp_path):
    write_audio(tmp_path / "long.flac", burst(35.0, sr=44100, channels=2), 44100)
    blocks = list(stream(tmp_path / "long.flac"))
    assert len(blocks) >= 3
    assert max(len(b) for b in blocks) <= (audio.BLOCK_SECONDS + 1) * 16000
    np.testing.assert_array_equal(np.concatenate(blocks), load(tmp_path / "long.flac"))


# -- bad input -------------------------------------------------------------------------------------


def assert_audio_error(path, *words, **kwargs):
    with pytest.raises(AudioError) as err:
        load(path, **kwargs)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message
    return message


def test_audio_errors_are_detector_errors():
    assert issubclass(AudioError, DetectorError)


def test_a_missing_file_is_named(tmp_path):
    assert_audio_error(tmp_path / "nope.wav", "no such file")


def test_a_folder_is_not_audio(tmp_path):
    assert_audio_error(tmp_path, "folder")


def test_an_empty_file_says_it_is_empty(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert_audio_error(tmp_path / "empty.mp3", "empty")


def test_a_text_file_is_not_audio(tmp_path):
    (tmp_path / "notes.mp3").write_text("these are not the droids\n" * 50)
    assert_audio_error(tmp_path / "notes.mp3", "not a decodable audio file")


def test_random_bytes_are_not_audio(tmp_path):
    (tmp_path / "noise.wav").write_bytes(np.random.default_rng(0).bytes(10_000))
    assert_audio_error(tmp_path / "noise.wav", "not a decodable audio file")


def test_a_wav_without_samples_has_zero_length(tmp_path):
    write_audio(tmp_path / "zero.wav", np.zeros((0, 2), np.float32), 44100)
    assert_audio_error(tmp_path / "zero.wav", "zero length")


def test_a_truncated_wav_says_truncated(audio_files, tmp_path):
    data = audio_files["wav"].read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    assert_audio_error(tmp_path / "cut.wav", "truncated", "3.0 s")


def test_a_truncated_mp3_says_truncated(audio_files, tmp_path):
    data = audio_files["mp3"].read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    assert_audio_error(tmp_path / "cut.mp3", "truncated")


@pytest.mark.parametrize("ext", ["flac", "m4a"])
def test_a_truncated_flac_or_m4a_says_truncated_or_corrupt(audio_files, tmp_path, ext):
    data = audio_files[ext].read_bytes()
    (tmp_path / f"cut.{ext}").write_bytes(data[: len(data) // 2])
    assert_audio_error(tmp_path / f"cut.{ext}", "truncated or corrupt")


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "reason"),
    [(24, "<I", 0, "sample rate 0 Hz"), (24, "<I", 4_000_000_000, "sample rate 4000000000 Hz"),
     (24, "<I", 1, "sample rate 1 Hz"), (22, "<H", 999, "999 channels"), (22, "<H", 0, "no audio channels")],
)
def test_an_absurd_wav_header_is_refused_with_the_absurd_value(audio_files, tmp_path, offset, fmt, value, reason):
    data = bytearray(audio_files["wav"].read_bytes())
    struct.pack_into(fmt, data, offset, value)
    (tmp_path / "absurd.wav").write_bytes(bytes(data))
    assert_audio_error(tmp_path / "absurd.wav", reason)


def test_a_file_over_the_duration_limit_is_refused_before_decoding(audio_files):
    message = assert_audio_error(audio_files["mp3"], "over the 1.0 s limit", max_duration=1.0)
    assert "3.0 s" in message


def test_the_duration_limit_also_holds_when_the_header_lies(tmp_path, monkeypatch):
    write_audio(tmp_path / "a.wav", sine(4.0), 16000)
    real = audio.probe
    monkeypatch.setattr(audio, "probe", lambda p: AudioInfo(0.5, *list(real(p).to_dict().values())[1:]))
    with pytest.raises(AudioError, match="limit"):
        list(audio.stream(tmp_path / "a.wav", max_duration=1.0, info=audio.probe(tmp_path / "a.wav")))


def test_a_video_file_without_sound_has_no_audio_stream(tmp_path):
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=32x32:d=1", "-c:v", "mpeg4", str(tmp_path / "silent.mp4"))
    assert_audio_error(tmp_path / "silent.mp4", "no audio stream")


@pytest.fixture(scope="module")
def mp3_without_xing_with_cover_art(tmp_path_factory):
    """A 6 s constant-bitrate MP3 with no Xing/Info frame and 1.6 MB of ID3v2 cover art: FFmpeg and
    libsndfile both take the art for audio when they guess the length from the bit rate."""
    folder = tmp_path_factory.mktemp("mp3art")
    write_audio(folder / "song.wav", sine(6.0, sr=44100, channels=2), 44100)
    ffmpeg("-i", str(folder / "song.wav"), "-c:a", "libmp3lame", "-b:a", "128k", str(folder / "plain.mp3"))
    ffmpeg("-f", "lavfi", "-i", "nullsrc=s=1500x1500,geq=random(1)*255:128:128", "-frames:v", "1", "-q:v", "1",
           str(folder / "cover.jpg"))
    ffmpeg("-i", str(folder / "plain.mp3"), "-i", str(folder / "cover.jpg"), "-map", "0:a", "-map", "1", "-c", "copy",
           "-id3v2_version", "3", "-write_xing", "0", str(folder / "art.mp3"))
    return folder / "art.mp3"


def test_an_mp3_without_xing_and_with_cover_art_decodes_whole(mp3_without_xing_with_cover_art):
    path = mp3_without_xing_with_cover_art
    info = probe(path)
    assert info.estimated
    assert sf.info(str(path)).duration > 7.0  # libsndfile's guess counts the picture as audio
    assert abs(audio.scan(path).duration - 6.0) < 0.1
    assert abs(len(load(path)) / 16000 - 6.0) < 0.1


def test_scan_takes_the_duration_from_decoding_and_still_refuses_a_truncated_file(audio_files, tmp_path):
    info = audio.scan(audio_files["mp3"])
    assert not info.estimated and abs(info.duration - FIXTURE_SECONDS) < 0.06
    data = audio_files["mp3"].read_bytes()  # ffmpeg writes a Xing frame: the length is stated exactly
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    assert_audio_error(tmp_path / "cut.mp3", "truncated")
    with pytest.raises(AudioError, match="truncated"):
        audio.scan(tmp_path / "cut.mp3")


def test_scan_stops_at_the_length_limit_with_a_too_long_error(audio_files):
    from detector.errors import AudioTooLong

    with pytest.raises(AudioTooLong, match="over the 1.0 s limit"):
        audio.scan(audio_files["mp3"], max_duration=1.0)
