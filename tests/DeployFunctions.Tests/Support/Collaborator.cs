using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using GitHubStandIn;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// Someone with write access using GitHub's REST API with their own token, as anyone with write access can: the stand-in
/// records what they make (deployments, statuses, workflow runs) as theirs.
/// </summary>
internal static class Collaborator
{
    private static readonly HttpClient Http = new();

    public static async Task<JsonNode?> CallAsync(StandInServer gitHub, string login, HttpMethod method, string path, string body)
    {
        var token = login + "-token";
        gitHub.State.TokenLogins[token] = login;
        using var request = new HttpRequestMessage(method, new Uri(gitHub.BaseAddress, path.TrimStart('/')));
        request.Headers.Authorization = new AuthenticationHeaderValue("token", token);
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }
}
