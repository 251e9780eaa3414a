import numpy as np

from kizuna.frames import ric_basis, to_ric


def test_ric_basis_is_orthonormal_and_right_handed_for_real_like_states():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(50, 3)) * 7000
    v = rng.normal(size=(50, 3)) * 7
    b = ric_basis(r, v)
    eye = np.einsum("nij,nkj->nik", b, b)
    assert np.allclose(eye, np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(b), 1.0)
    # radial along r, cross-track along r x v, in-track has a positive velocity component
    assert np.allclose(b[:, 0], r / np.linalg.norm(r, axis=1, keepdims=True))
    assert (np.einsum("ij,ij->i", b[:, 1], v) > 0).all()


def test_to_ric_of_circular_orbit_offsets():
    r = np.array([7000.0, 0.0, 0.0])
    v = np.array([0.0, 7.5, 0.0])
    assert np.allclose(to_ric(r, v, [1.0, 2.0, 3.0]), [1.0, 2.0, 3.0])
    v_retro = np.array([0.0, -7.5, 0.0])
    assert np.allclose(to_ric(r, v_retro, [1.0, 2.0, 3.0]), [1.0, -2.0, -3.0])
