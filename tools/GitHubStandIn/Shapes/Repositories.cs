using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: repositories, branches, contents, collaborators and teams.</summary>
public static partial class GitHubShapes
{
    public static JsonObject Repository(Uri api, StandInRepository repository)
    {
        var url = new Uri(api, $"repos/{repository.FullName}").ToString();
        var repositoryJson = new JsonObject
        {
            ["id"] = repository.Id,
            ["node_id"] = NodeId("R", repository.Id),
            ["name"] = repository.Name,
            ["full_name"] = repository.FullName,
            ["private"] = false,
            ["owner"] = User(api, repository.Owner, repository.Id + 1),
            ["html_url"] = $"https://github.com/{repository.FullName}",
            ["description"] = null,
            ["fork"] = repository.Fork,
            ["url"] = url,
            ["deployments_url"] = url + "/deployments",
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["updated_at"] = "2026-01-01T00:00:00Z",
            ["pushed_at"] = "2026-01-01T00:00:00Z",
            ["git_url"] = $"git://github.com/{repository.FullName}.git",
            ["ssh_url"] = $"git@github.com:{repository.FullName}.git",
            ["clone_url"] = $"https://github.com/{repository.FullName}.git",
            ["homepage"] = null,
            ["size"] = 0,
            ["stargazers_count"] = 0,
            ["watchers_count"] = 0,
            ["language"] = null,
            ["has_issues"] = true,
            ["has_projects"] = true,
            ["has_downloads"] = true,
            ["has_wiki"] = true,
            ["has_pages"] = false,
            ["forks_count"] = 0,
            ["mirror_url"] = null,
            ["archived"] = false,
            ["disabled"] = false,
            ["open_issues_count"] = 0,
            ["license"] = null,
            ["forks"] = 0,
            ["open_issues"] = 0,
            ["watchers"] = 0,
            ["default_branch"] = repository.DefaultBranch,
        };
        // The URL templates every repository object carries (GitHub's repository-webhooks schema requires them all).
        foreach (var (name, template) in RepositoryUrlTemplates)
        {
            repositoryJson[name] = url + template;
        }

        repositoryJson["svn_url"] = $"https://github.com/{repository.FullName}";
        return repositoryJson;
    }

    private static readonly (string Name, string Template)[] RepositoryUrlTemplates =
    [
        ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"), ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"), ("contributors_url", "/contributors"), ("downloads_url", "/downloads"),
        ("events_url", "/events"), ("forks_url", "/forks"), ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"), ("git_tags_url", "/git/tags{/sha}"), ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"), ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"), ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"),
        ("notifications_url", "/notifications{?since,all,participating}"), ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"), ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"), ("tags_url", "/tags"),
        ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"),
    ];

    /// <summary>GitHub's REST <c>repository</c>: the webhook shape plus what the REST description requires besides.</summary>
    public static JsonObject FullRepository(Uri api, StandInRepository repository)
    {
        var json = Repository(api, repository);
        json["fork"] = repository.Fork;
        json["visibility"] = "public";
        json["topics"] = new JsonArray();
        json["allow_forking"] = true;
        json["is_template"] = false;
        json["web_commit_signoff_required"] = false;
        json["has_discussions"] = false;
        return json;
    }

    /// <summary>GitHub's <c>repository-collaborator-permission</c>: <c>permission</c> is the classic level, <c>role_name</c> the role.</summary>
    public static JsonObject CollaboratorPermission(Uri api, string login, string role)
    {
        var user = Person(api, login);
        user["role_name"] = role;
        return new JsonObject
        {
            ["permission"] = role switch { "maintain" => "write", "triage" => "read", _ => role },
            ["role_name"] = role,
            ["user"] = user,
        };
    }

    /// <summary>GitHub's <c>team-membership</c>.</summary>
    public static JsonObject TeamMembership(Uri api, string org, string team, string login) => new()
    {
        ["url"] = new Uri(api, $"orgs/{org}/teams/{team}/memberships/{login}").ToString(),
        ["role"] = "member",
        ["state"] = "active",
    };

    /// <summary>GitHub's <c>branch-with-protection</c>, with the head <c>commit</c>.</summary>
    public static JsonObject Branch(Uri api, StandInRepository repository, string branch, string sha)
    {
        var repo = new Uri(api, $"repos/{repository.FullName}").ToString();
        return new JsonObject
        {
            ["name"] = branch,
            ["commit"] = Commit(api, repository, sha, $"Head of {branch}"),
            ["_links"] = new JsonObject { ["html"] = $"https://github.com/{repository.FullName}/tree/{branch}", ["self"] = $"{repo}/branches/{branch}" },
            ["protected"] = false,
            ["protection"] = new JsonObject { ["enabled"] = false },
            ["protection_url"] = $"{repo}/branches/{branch}/protection",
        };
    }

    /// <summary>GitHub's <c>commit</c>, as a branch and the commit list carry it.</summary>
    public static JsonObject Commit(Uri api, StandInRepository repository, string sha, string message)
    {
        var repo = new Uri(api, $"repos/{repository.FullName}").ToString();
        var author = User(api, repository.Owner, repository.Id + 1);
        var signature = new JsonObject { ["name"] = repository.Owner, ["email"] = $"{repository.Owner}@users.noreply.github.com", ["date"] = "2026-01-01T00:00:00Z" };
        return new JsonObject
        {
            ["url"] = $"{repo}/commits/{sha}",
            ["sha"] = sha,
            ["node_id"] = NodeId("C", repository.Id),
            ["html_url"] = $"https://github.com/{repository.FullName}/commit/{sha}",
            ["comments_url"] = $"{repo}/commits/{sha}/comments",
            ["commit"] = new JsonObject
            {
                ["url"] = $"{repo}/git/commits/{sha}",
                ["author"] = signature,
                ["committer"] = signature.DeepClone(),
                ["message"] = message,
                ["comment_count"] = 0,
                ["tree"] = new JsonObject { ["sha"] = new string('t', 40), ["url"] = $"{repo}/git/trees/{new string('t', 40)}" },
                ["verification"] = new JsonObject { ["verified"] = false, ["reason"] = "unsigned", ["payload"] = null, ["signature"] = null, ["verified_at"] = null },
            },
            ["author"] = author,
            ["committer"] = author.DeepClone(),
            ["parents"] = new JsonArray(),
        };
    }

    /// <summary>GitHub's <c>commit-comparison</c> of <paramref name="head"/> against <paramref name="baseRef"/> (whose head is <paramref name="baseSha"/>).</summary>
    public static JsonObject Comparison(Uri api, StandInRepository repository, string baseRef, string baseSha, string head, int aheadBy, int behindBy)
    {
        var repo = new Uri(api, $"repos/{repository.FullName}").ToString();
        var html = $"https://github.com/{repository.FullName}/compare/{baseRef}...{head}";
        return new JsonObject
        {
            ["url"] = $"{repo}/compare/{baseRef}...{head}",
            ["html_url"] = html,
            ["permalink_url"] = $"https://github.com/{repository.FullName}/compare/{repository.Owner}:{baseSha[..Math.Min(7, baseSha.Length)]}...{repository.Owner}:{head[..Math.Min(7, head.Length)]}",
            ["diff_url"] = html + ".diff",
            ["patch_url"] = html + ".patch",
            ["base_commit"] = Commit(api, repository, baseSha, $"the head of {baseRef}"),
            ["merge_base_commit"] = Commit(api, repository, baseSha, "the merge base"),
            ["status"] = (aheadBy, behindBy) switch
            {
                (0, 0) => "identical",
                (_, 0) => "ahead",
                (0, _) => "behind",
                _ => "diverged",
            },
            ["ahead_by"] = aheadBy,
            ["behind_by"] = behindBy,
            ["total_commits"] = aheadBy,
            ["commits"] = new JsonArray([.. Enumerable.Range(0, aheadBy).Select(_ => (JsonNode)Commit(api, repository, head, "a commit of the head"))]),
            ["files"] = new JsonArray(),
        };
    }

    /// <summary>GitHub's <c>content-file</c>: the file base64-encoded in lines of 60, as GitHub sends it.</summary>
    public static JsonObject ContentFile(Uri api, StandInRepository repository, string path, byte[] bytes, string blobSha)
    {
        var url = new Uri(api, $"repos/{repository.FullName}/contents/{path}").ToString();
        var git = new Uri(api, $"repos/{repository.FullName}/git/blobs/{blobSha}").ToString();
        var html = $"https://github.com/{repository.FullName}/blob/{repository.DefaultBranch}/{path}";
        var base64 = Convert.ToBase64String(bytes);
        return new JsonObject
        {
            ["type"] = "file",
            ["encoding"] = "base64",
            ["size"] = bytes.Length,
            ["name"] = path[(path.LastIndexOf('/') + 1)..],
            ["path"] = path,
            ["content"] = string.Join('\n', base64.Chunk(60).Select(c => new string(c))) + "\n",
            ["sha"] = blobSha,
            ["url"] = url,
            ["git_url"] = git,
            ["html_url"] = html,
            ["download_url"] = $"https://raw.githubusercontent.com/{repository.FullName}/{repository.DefaultBranch}/{path}",
            ["_links"] = new JsonObject { ["self"] = url, ["git"] = git, ["html"] = html },
        };
    }
}
