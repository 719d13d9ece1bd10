//! The small Django project the lab serves: written into a folder by the harness, in the
//! shape `django-admin startproject` gives (package `proj` with settings, urls and wsgi),
//! with a few views an incident needs and the breakages a scenario asks for.

use std::path::{Path, PathBuf};

/// What is wrong with the project, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakage {
    /// Nothing: the project boots and serves.
    None,
    /// `settings.py` reads `os.environ["SECRET_KEY"]` at import and the variable is not set.
    MissingEnv,
    /// `INSTALLED_APPS` names a module that does not exist.
    MissingApp,
}

/// The project's settings: `TIME_ZONE` (Django sets the process's `TZ` from it when the
/// settings load, so the gunicorn worker's log lines switch to that zone) and its breakage.
pub struct Project {
    pub time_zone: &'static str,
    pub breakage: Breakage,
}

impl Default for Project {
    fn default() -> Project {
        Project {
            time_zone: "UTC",
            breakage: Breakage::None,
        }
    }
}

/// The module the missing-app breakage names (tests/lab.rs expects it in the error).
pub const MISSING_APP: &str = "bookshelf_reviews";

impl Project {
    /// Writes the project under `dir` (made if needed); `state` is where the slow view
    /// marks that it started (so a test knows a request is in flight). Returns `dir`.
    pub fn write(&self, dir: &Path, state: &Path) -> PathBuf {
        let pkg = dir.join("proj");
        std::fs::create_dir_all(&pkg).expect("project folder");
        let secret = match self.breakage {
            Breakage::MissingEnv => "os.environ[\"SECRET_KEY\"]".to_string(),
            _ => "os.environ.get(\"SECRET_KEY\", \"lab-only-not-a-secret\")".to_string(),
        };
        let extra_app = match self.breakage {
            Breakage::MissingApp => format!("    \"{MISSING_APP}\",\n"),
            _ => String::new(),
        };
        let settings = format!(
            r#""""Settings of the lab's project (the shape startproject writes)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = {secret}
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
{extra_app}]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "proj.urls"
WSGI_APPLICATION = "proj.wsgi.application"
DATABASES = {{}}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "{tz}"
USE_TZ = True
LAB_GREETING = "hello from the lab"
LAB_STATE_DIR = {state:?}
"#,
            tz = self.time_zone,
            state = state.display().to_string(),
        );
        let urls = r#""""The lab's views: fast, slow (sleeps ?s= seconds) and one reading a setting."""
import os
import time

from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def fast(request):
    return HttpResponse("ok\n", content_type="text/plain")


def slow(request):
    seconds = float(request.GET.get("s", "5"))
    mark = os.path.join(settings.LAB_STATE_DIR, "slow-started-%d" % os.getpid())
    with open(mark, "w") as f:
        f.write("%s\n" % seconds)
    time.sleep(seconds)
    return HttpResponse("slept %s s\n" % seconds, content_type="text/plain")


def greeting(request):
    return HttpResponse(settings.LAB_GREETING + "\n", content_type="text/plain")


urlpatterns = [
    path("", fast),
    path("slow/", slow),
    path("greeting/", greeting),
]
"#;
        let wsgi = r#""""WSGI config for proj: exposes the callable as ``application``."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

application = get_wsgi_application()
"#;
        for (name, text) in [
            ("__init__.py", ""),
            ("settings.py", settings.as_str()),
            ("urls.py", urls),
            ("wsgi.py", wsgi),
        ] {
            std::fs::write(pkg.join(name), text).expect("project file");
        }
        dir.to_path_buf()
    }
}
