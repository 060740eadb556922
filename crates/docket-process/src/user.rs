//! `run_as`: the user a step's programs run as, looked up on this host when the step starts.
//! The switch is the standard library's (`uid`/`gid` on the command, which also drops the
//! server's supplementary groups), so the program never holds the server's rights.

use crate::LaunchError;

/// A user on this host, by name, with the ids a program is started under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The name, as the workflow wrote it.
    pub name: String,
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
}

impl User {
    /// Looks `name` up in this host's user database.
    pub fn lookup(name: &str) -> Result<Self, LaunchError> {
        match nix::unistd::User::from_name(name) {
            Ok(Some(user)) => Ok(Self { name: name.to_owned(), uid: user.uid.as_raw(), gid: user.gid.as_raw() }),
            Ok(None) => Err(LaunchError::NoSuchUser(name.to_owned())),
            Err(errno) => {
                Err(LaunchError::NoSuchUser(format!("{name} (the user database could not be read: {errno})")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_found_by_name_and_strangers_are_not() {
        let root = User::lookup("root").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((root.uid, root.gid), (0, 0));
        let missing = User::lookup("no-such-user-here").map(|_| ()).unwrap_err();
        assert_eq!(missing.to_string(), "there is no user `no-such-user-here` on this host (`run_as`)");
    }
}
